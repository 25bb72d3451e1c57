// Response heads and local responses: the framing table of append_head_end, the
// worker header filter, chunk encoding and the error pages, byte for byte.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "supervisor/frontend/response_head.h"

namespace wsgid::frontend {
namespace {

constexpr std::string_view kDate = "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n";

TEST_CASE("status line and reason phrases") {
  std::string out;
  append_status_line(&out, 404, reason_phrase(404));
  CHECK(out == "HTTP/1.1 404 Not Found\r\n");
  const std::vector<std::pair<int, const char*>> table = {
      {100, "Continue"}, {200, "OK"}, {206, "Partial Content"}, {304, "Not Modified"},
      {405, "Method Not Allowed"}, {413, "Request Entity Too Large"},
      {416, "Requested Range Not Satisfiable"}, {417, "Expectation Failed"},
      {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"},
      {299, "Unknown"}, {999, "Unknown"}};
  for (const auto& [status, reason] : table) {
    INFO(status);
    CHECK(reason_phrase(status) == reason);
  }
}

TEST_CASE("append_head_end: body framing and the Connection line") {
  struct Case {
    const char* what;
    HeadEnd in;
    std::string lines;  // what follows the header lines, before the date
    std::string connection;
    Framing framing;
  };
  auto head = [](int status, bool has_length, bool head_method, bool http10, bool keep_alive,
                 bool draining) {
    HeadEnd h;
    h.status = status;
    h.has_length = has_length;
    h.head_method = head_method;
    h.http10 = http10;
    h.keep_alive = keep_alive;
    h.draining = draining;
    h.date_line = kDate;
    return h;
  };
  const std::vector<Case> cases = {
      {"1.1 with length", head(200, true, false, false, true, false), "", "", {false, false, true}},
      {"1.1 without length: chunked", head(200, false, false, false, true, false),
       "Transfer-Encoding: chunked\r\n", "", {false, true, true}},
      {"1.0 without length: close", head(200, false, false, true, true, false), "",
       "Connection: close\r\n", {false, false, false}},
      {"1.0 kept", head(200, true, false, true, true, false), "", "Connection: keep-alive\r\n",
       {false, false, true}},
      {"HEAD: no body, no chunking", head(200, false, true, false, true, false), "", "",
       {true, false, true}},
      {"204", head(204, false, false, false, true, false), "", "", {true, false, true}},
      {"304", head(304, false, false, false, true, false), "", "", {true, false, true}},
      {"1xx", head(100, false, false, false, true, false), "", "", {true, false, true}},
      {"not kept", head(200, true, false, false, false, false), "", "Connection: close\r\n",
       {false, false, false}},
      {"draining", head(200, true, false, false, true, true), "", "Connection: close\r\n",
       {false, false, true}},
      {"draining 1.0", head(200, true, false, true, true, true), "", "Connection: close\r\n",
       {false, false, true}},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::string out = "X: y\r\n";
    Framing f = append_head_end(&out, c.in);
    CHECK(out == "X: y\r\n" + c.lines + std::string(kDate) + c.connection + "\r\n");
    CHECK(f.no_body == c.framing.no_body);
    CHECK(f.chunked == c.framing.chunked);
    CHECK(f.keep_alive == c.framing.keep_alive);
  }
}

TEST_CASE("append_worker_headers keeps the end-to-end headers and one valid Content-Length") {
  struct Case {
    const char* what;
    proto::KeyValues headers;
    std::string out;
    int64_t length;
  };
  const std::vector<Case> cases = {
      {"plain", {{"Content-Type", "text/plain"}, {"X-A", "1"}}, "Content-Type: text/plain\r\nX-A: 1\r\n", -1},
      {"hop-by-hop dropped",
       {{"Connection", "close"}, {"keep-alive", "x"}, {"Transfer-Encoding", "chunked"},
        {"Proxy-Connection", "x"}, {"UPGRADE", "h2c"}, {"X", "1"}},
       "X: 1\r\n", -1},
      {"repeated Set-Cookie kept in order", {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}},
       "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n", -1},
      {"Content-Length kept", {{"Content-Length", "12"}}, "Content-Length: 12\r\n", 12},
      {"Content-Length 0", {{"content-length", "0"}}, "content-length: 0\r\n", 0},
      {"bad Content-Length dropped", {{"Content-Length", "12x"}, {"Content-Length", "-1"}, {"Content-Length", ""}}, "", -1},
      {"second Content-Length dropped", {{"Content-Length", "3"}, {"Content-Length", "4"}}, "Content-Length: 3\r\n", 3},
      {"bad one, then a good one", {{"Content-Length", "x"}, {"Content-Length", "4"}}, "Content-Length: 4\r\n", 4},
      {"CR/LF/colon in a name, CR/LF in a value: dropped",
       {{"X\r", "1"}, {"Y\n", "1"}, {"Z:a", "1"}, {"V", "a\r\nSet-Cookie: evil"}, {"W", "a\nb"}, {"T", "ok"}},
       "T: ok\r\n", -1},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    // Encode with the codec's layout, without its line-byte check (the worker
    // refuses such heads; the front end must survive them anyway).
    std::string payload("\x00\xc8\x00\x00", 4);  // 200, empty reason
    for (const auto& [k, v] : c.headers) {
      const auto klen = static_cast<uint16_t>(k.size());
      const auto vlen = static_cast<uint32_t>(v.size());
      const char h[6] = {static_cast<char>(klen >> 8), static_cast<char>(klen),
                         static_cast<char>(vlen >> 24), static_cast<char>(vlen >> 16),
                         static_cast<char>(vlen >> 8), static_cast<char>(vlen)};
      payload.append(h, 6);
      payload += k;
      payload += v;
    }
    Result<proto::ResponseHeadView> view = proto::ResponseHeadView::parse(payload);
    REQUIRE(view.is_ok());
    std::string out;
    CHECK(append_worker_headers(&out, *view) == c.length);
    CHECK(out == c.out);
  }
}

TEST_CASE("body bytes, chunked or not") {
  struct Case {
    const char* what;
    std::string data;
    bool chunked;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"identity", "hello", false, "hello"},
      {"chunk", "hello", true, "5\r\nhello\r\n"},
      {"chunk size in hex", std::string(26, 'a'), true, "1a\r\n" + std::string(26, 'a') + "\r\n"},
      {"empty data writes nothing (an empty chunk would end the body)", "", true, ""},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::string out;
    append_body(&out, c.data, c.chunked);
    CHECK(out == c.out);
  }
  std::string last;
  append_last_chunk(&last);
  CHECK(last == "0\r\n\r\n");
}

// Apache 2.4.71's page for a status: its exact bytes (ap_send_error_response).
std::string apache_page(const std::string& title, const std::string& text) {
  return "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" "
         "\"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>" + title +
         "</title>\n</head><body>\n<h1>" + title.substr(4) + "</h1>\n" + text + "</body></html>\n";
}

TEST_CASE("local responses: Apache's pages, Retry-After, Allow") {
  struct Case {
    const char* what;
    LocalPage page;
    std::string head_lines;  // before Content-Length
    std::string body;
  };
  const std::string html = "Content-Type: text/html; charset=iso-8859-1\r\n";
  // The 404, 411 and 301 pages as Debian 12's apache2 sent them to
  // tests/integration/e2e/test_debian_graphite.py.
  const std::vector<Case> cases = {
      {"404", {404}, html,
       apache_page("404 Not Found", "<p>The requested URL was not found on this server.</p>\n")},
      {"411 names the method", {411, "POST"}, html,
       apache_page("411 Length Required",
                   "<p>A request of the requested method POST requires a valid "
                   "Content-length.<br />\n</p>\n")},
      {"301 links the Location, escaped", {301, "GET", "http://h/a/?x=1&y=\"2\""}, html,
       apache_page("301 Moved Permanently",
                   "<p>The document has moved <a href=\"http://h/a/?x=1&amp;y=&quot;2&quot;\">"
                   "here</a>.</p>\n")},
      {"303", {303, "POST", "/b"}, html,
       apache_page("303 See Other",
                   "<p>The answer to your request is located <a href=\"/b\">here</a>.</p>\n")},
      {"400", {400}, html,
       apache_page("400 Bad Request", "<p>Your browser sent a request that this server could "
                                      "not understand.<br />\n</p>\n")},
      {"405 names the method", {405, "PUT"}, html,
       apache_page("405 Method Not Allowed",
                   "<p>The requested method PUT is not allowed for this URL.</p>\n")},
      {"413 has no paragraph", {413, "POST"}, html,
       apache_page("413 Request Entity Too Large",
                   "The requested resource does not allow request data with POST requests, or "
                   "the amount of data provided in\nthe request exceeds the capacity limit.\n")},
      {"416", {416}, html,
       apache_page("416 Requested Range Not Satisfiable",
                   "<p>None of the range-specifier values in the Range\nrequest-header field "
                   "overlap the current extent\nof the selected resource.</p>\n")},
      {"501 escapes the method", {501, "<X>"}, html,
       apache_page("501 Not Implemented",
                   "<p>&lt;X&gt; not supported for current URL.<br />\n</p>\n")},
      {"503 with Retry-After", {503, "GET", "", true}, html + "Retry-After: 5\r\n",
       apache_page("503 Service Unavailable",
                   "<p>The server is temporarily unable to service your\nrequest due to "
                   "maintenance downtime or capacity\nproblems. Please try again later.</p>\n")},
      {"OPTIONS * answers 200 with Allow", {200, "OPTIONS", "", false, true},
       "Allow: GET,HEAD,POST,OPTIONS\r\n", ""},
      {"Allow only with 200", {404, "OPTIONS", "", false, true}, html,
       apache_page("404 Not Found", "<p>The requested URL was not found on this server.</p>\n")},
      {"304 has no page", {304}, "", ""},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::string head, body = "stale";
    append_local_headers(&head, &body, c.page);
    CHECK(head == c.head_lines + "Content-Length: " + std::to_string(c.body.size()) + "\r\n");
    CHECK(body == c.body);
    CHECK(local_page_has_body(c.page.status) == !c.body.empty());
  }
}

TEST_CASE("Vary fields merged as Apache's fix_vary") {
  struct Case {
    std::vector<std::pair<std::string, std::string>> fields;
    std::string merged;
  };
  const std::vector<Case> cases = {
      {{{"Vary", "Cookie, Accept-Encoding"}}, "Cookie,Accept-Encoding"},
      {{{"Vary", "Cookie"}, {"X", "y"}, {"vary", "accept-encoding,  cookie"}},
       "Cookie,accept-encoding"},
      {{{"Vary", " , ,"}}, ""},
      {{{"X", "y"}}, ""},
      {{{"Vary", "*"}, {"Vary", "Cookie\tUser-Agent"}}, "*,Cookie,User-Agent"},
  };
  for (const Case& c : cases) {
    std::string frame("\x00\xc8\x00\x00", 4);  // 200, empty reason (as above)
    for (const auto& [k, v] : c.fields) {
      const auto klen = static_cast<uint16_t>(k.size());
      const auto vlen = static_cast<uint32_t>(v.size());
      const char h[6] = {static_cast<char>(klen >> 8), static_cast<char>(klen),
                         static_cast<char>(vlen >> 24), static_cast<char>(vlen >> 16),
                         static_cast<char>(vlen >> 8), static_cast<char>(vlen)};
      frame.append(h, 6);
      frame += k;
      frame += v;
    }
    Result<proto::ResponseHeadView> view = proto::ResponseHeadView::parse(frame);
    REQUIRE(view.is_ok());
    INFO(c.merged);
    CHECK(merged_vary(*view) == c.merged);
    std::string out;
    append_worker_headers(&out, *view);
    CHECK(out.find("Vary") == out.rfind("Vary"));  // one field at most
    if (!c.merged.empty()) CHECK(out.find("Vary: " + c.merged + "\r\n") != std::string::npos);
  }
}

}  // namespace
}  // namespace wsgid::frontend
