// Response heads and local responses (see the header).
#include "supervisor/frontend/response_head.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
namespace {

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// ap_escape_html: &, <, >, " as entities.
std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Apache 2.4's canned text of an error or redirect page (http_protocol.c,
// get_canned_error_string), byte for byte, for the statuses the front end writes;
// "" for others. No "error-notes": Apache adds none for these either.
std::string canned_text(int status, std::string_view method, std::string_view location) {
  switch (status) {
    case 301: case 302: case 307: case 308:
      return "<p>The document has moved <a href=\"" + escape_html(location) + "\">here</a>.</p>\n";
    case 303:
      return "<p>The answer to your request is located <a href=\"" + escape_html(location) +
             "\">here</a>.</p>\n";
    case 400:
      return "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n";
    case 401:
      return "<p>This server could not verify that you\nare authorized to access the document\n"
             "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\n"
             "browser doesn't understand how to supply\nthe credentials required.</p>\n";
    case 403: return "<p>You don't have permission to access this resource.</p>\n";
    case 404: return "<p>The requested URL was not found on this server.</p>\n";
    case 405:
      return "<p>The requested method " + escape_html(method) + " is not allowed for this URL.</p>\n";
    case 408: return "<p>Server timeout waiting for the HTTP request from the client.</p>\n";
    case 410:
      return "<p>The requested resource is no longer available on this server and there is no "
             "forwarding address.\nPlease remove all references to this resource.</p>\n";
    case 411:
      return "<p>A request of the requested method " + escape_html(method) +
             " requires a valid Content-length.<br />\n</p>\n";
    case 412: return "<p>The precondition on the request for this URL evaluated to false.</p>\n";
    case 413:
      return "The requested resource does not allow request data with " + escape_html(method) +
             " requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n";
    case 414:
      return "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n";
    case 416:
      return "<p>None of the range-specifier values in the Range\nrequest-header field overlap the "
             "current extent\nof the selected resource.</p>\n";
    case 500:
      return "<p>The server encountered an internal error or\nmisconfiguration and was unable to "
             "complete\nyour request.</p>\n<p>More information about this error may be available\n"
             "in the server error log.</p>\n";
    case 501:
      return "<p>" + escape_html(method) + " not supported for current URL.<br />\n</p>\n";
    case 502:
      return "<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\r\n</p>\n";
    case 503:
      return "<p>The server is temporarily unable to service your\nrequest due to maintenance "
             "downtime or capacity\nproblems. Please try again later.</p>\n";
    case 504:
      return "<p>The gateway did not receive a timely response\nfrom the upstream server or "
             "application.</p>\n";
    default: return "";
  }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool hop_by_hop(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "transfer-encoding") || iequals(name, "proxy-connection") ||
         iequals(name, "upgrade");
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 401: return "Unauthorized";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

void append_status_line(std::string* out, int status, std::string_view reason) {
  out->append("HTTP/1.1 ");
  append_num(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(reason);
  out->append("\r\n");
}

Framing append_head_end(std::string* out, const HeadEnd& in) {
  Framing f;
  f.keep_alive = in.keep_alive;
  f.no_body = proto::response_has_no_body(in.head_method, in.status);
  if (!f.no_body && !in.has_length) {
    if (!in.http10) {
      f.chunked = true;
      out->append("Transfer-Encoding: chunked\r\n");
    } else {
      f.keep_alive = false;
    }
  }
  out->append(in.date_line);
  if (!f.keep_alive || in.draining) out->append("Connection: close\r\n");
  else if (in.http10) out->append("Connection: keep-alive\r\n");
  out->append("\r\n");
  return f;
}

std::string merged_vary(const proto::ResponseHeadView& head) {
  std::vector<std::string_view> names;
  for (const auto& [k, v] : head) {
    if (!iequals(k, "vary") || v.find_first_of("\r\n") != std::string_view::npos) continue;
    size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && (v[i] == ',' || is_space(v[i]))) ++i;
      size_t start = i;
      while (i < v.size() && v[i] != ',' && !is_space(v[i])) ++i;
      if (i == start) break;
      std::string_view name = v.substr(start, i - start);
      if (std::none_of(names.begin(), names.end(),
                       [&](std::string_view n) { return iequals(n, name); }))
        names.push_back(name);
    }
  }
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out.push_back(',');
    out.append(n);
  }
  return out;
}

int64_t append_worker_headers(std::string* out, const proto::ResponseHeadView& head) {
  int64_t length = -1;
  bool vary_done = false;
  for (const auto& [k, v] : head) {
    if (hop_by_hop(k)) continue;
    if (k.find_first_of("\r\n:") != std::string_view::npos ||
        v.find_first_of("\r\n") != std::string_view::npos)
      continue;  // response splitting
    if (iequals(k, "vary")) {
      // Apache's fix_vary (http_filters.c): every Vary field's names, once each,
      // as one field where the first was, joined by ','.
      if (vary_done) continue;
      vary_done = true;
      std::string merged = merged_vary(head);
      if (merged.empty()) continue;
      out->append("Vary: ").append(merged).append("\r\n");
      continue;
    }
    if (iequals(k, "content-length")) {
      int64_t n = -1;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n < 0) continue;
      if (length >= 0) continue;
      length = n;
    }
    out->append(k);
    out->append(": ");
    out->append(v);
    out->append("\r\n");
  }
  return length;
}

void append_body(std::string* out, std::string_view data, bool chunked) {
  if (data.empty()) return;
  if (!chunked) {
    out->append(data);
    return;
  }
  append_chunk_size(out, data.size());
  out->append(data);
  out->append("\r\n");
}

void append_chunk_size(std::string* out, size_t n) {
  char hex[20];
  auto r = std::to_chars(hex, hex + sizeof hex, n, 16);
  out->append(hex, static_cast<size_t>(r.ptr - hex));
  out->append("\r\n");
}

void append_last_chunk(std::string* out) { out->append("0\r\n\r\n"); }

bool local_page_has_body(int status) {
  return status >= 400 || (status >= 300 && status != 304);
}

void append_local_headers(std::string* out, std::string* body, const LocalPage& page) {
  body->clear();
  const int status = page.status;
  if (local_page_has_body(status)) {
    // ap_send_error_response: DOCTYPE_HTML_4_01, title, h1 without the code.
    body->append("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" "
                 "\"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>");
    append_num(body, static_cast<uint64_t>(status));
    body->push_back(' ');
    body->append(reason_phrase(status));
    body->append("</title>\n</head><body>\n<h1>");
    body->append(reason_phrase(status));
    body->append("</h1>\n");
    body->append(canned_text(status, page.method, page.location));
    body->append("</body></html>\n");
    out->append("Content-Type: text/html; charset=iso-8859-1\r\n");
  }
  if (page.retry_after) out->append("Retry-After: 5\r\n");
  if (status == 200 && page.allow) out->append("Allow: GET,HEAD,POST,OPTIONS\r\n");
  out->append("Content-Length: ");
  append_num(out, body->size());
  out->append("\r\n");
}

}  // namespace wsgid::frontend
