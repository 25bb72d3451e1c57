// Response heads and local responses (see the header).
#include "supervisor/frontend/response_head.h"

#include <charconv>

#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
namespace {

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// The paragraph of Apache's error page for a status.
std::string_view error_text(int status) {
  switch (status) {
    case 400: return "Your browser sent a request that this server could not understand.";
    case 403: return "You don't have permission to access this resource.";
    case 404: return "The requested URL was not found on this server.";
    case 410: return "The requested resource is no longer available on this server and there is no forwarding address. Please remove all references to this resource.";
    case 408: return "Server timeout waiting for the HTTP request from the client.";
    case 413: return "The requested resource does not allow request data with this method, or the amount of data provided in the request exceeds the capacity limit.";
    case 414: return "The requested URL's length exceeds the capacity limit for this server.";
    case 500: return "The server encountered an internal error or misconfiguration and was unable to complete your request.";
    case 502: return "The proxy server received an invalid response from an upstream server.";
    case 503: return "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.";
    case 504: return "The gateway did not receive a timely response from the upstream server or application.";
    default: return "";
  }
}

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
    case 408: return "Request Timeout";
    case 410: return "Gone";
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
  f.no_body = in.head_method || in.status < 200 || in.status == 204 || in.status == 304;
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

int64_t append_worker_headers(std::string* out, const proto::ResponseHeadView& head) {
  int64_t length = -1;
  for (const auto& [k, v] : head) {
    if (hop_by_hop(k)) continue;
    if (k.find_first_of("\r\n:") != std::string_view::npos ||
        v.find_first_of("\r\n") != std::string_view::npos)
      continue;  // response splitting
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
  char hex[20];
  auto r = std::to_chars(hex, hex + sizeof hex, data.size(), 16);
  out->append(hex, static_cast<size_t>(r.ptr - hex));
  out->append("\r\n");
  out->append(data);
  out->append("\r\n");
}

void append_last_chunk(std::string* out) { out->append("0\r\n\r\n"); }

void append_local_headers(std::string* out, std::string* body, int status, bool retry_after,
                          bool allow) {
  body->clear();
  if (status >= 400) {
    body->append("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>");
    append_num(body, static_cast<uint64_t>(status));
    body->push_back(' ');
    body->append(reason_phrase(status));
    body->append("</title>\n</head><body>\n<h1>");
    body->append(reason_phrase(status));
    body->append("</h1>\n<p>");
    body->append(error_text(status));
    body->append("</p>\n</body></html>\n");
    out->append("Content-Type: text/html; charset=iso-8859-1\r\n");
  }
  if (retry_after) out->append("Retry-After: 5\r\n");
  if (status == 200 && allow) out->append("Allow: GET,HEAD,POST,OPTIONS\r\n");
  out->append("Content-Length: ");
  append_num(out, body->size());
  out->append("\r\n");
}

}  // namespace wsgid::frontend
