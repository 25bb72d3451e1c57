// header_edit.h: mod_headers' rules on a response head already written (the
// application's, a static file's, a local one) and on a request's fields.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/frontend/header_edit.h"

using namespace wsgid;
using namespace wsgid::frontend;
using Origin = rewrite::HeaderRules::Origin;

namespace {

rewrite::HeaderRules rules_of(const std::vector<std::vector<std::string>>& lines) {
  rewrite::HeaderRules r;
  for (const auto& l : lines) {
    std::vector<std::string> args(l.begin() + 1, l.end());
    Status st = r.add(l[0], args);
    REQUIRE_MESSAGE(st.is_ok(), st.message());
  }
  return r;
}

}  // namespace

TEST_CASE("edit_response_head: onsuccess rules on handlers' heads, always rules on every head") {
  const std::string before = "HTTP/1.1 100 Continue\r\n\r\n";  // earlier output stays
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: app\r\nContent-Length: 5\r\n";
  struct Case {
    std::vector<std::vector<std::string>> rules;
    Origin origin;
    std::string want;  // the head after the edit
  } cases[] = {
      {{{"Header", "always", "set", "Strict-Transport-Security", "max-age=1"}}, Origin::kHandler,
       "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Type: text/plain\r\n"
       "Server: app\r\nContent-Length: 5\r\n"},
      {{{"Header", "always", "set", "Strict-Transport-Security", "max-age=1"}}, Origin::kError,
       "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Type: text/plain\r\n"
       "Server: app\r\nContent-Length: 5\r\n"},
      {{{"Header", "set", "X-A", "b"}}, Origin::kHandler,
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: app\r\nX-A: b\r\n"
       "Content-Length: 5\r\n"},
      {{{"Header", "set", "X-A", "b"}}, Origin::kError,
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: app\r\nContent-Length: 5\r\n"},
      {{{"Header", "unset", "Server"}, {"Header", "append", "Content-Type", "x"}},
       Origin::kHandler,
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain, x\r\nContent-Length: 5\r\n"},
      // edit re-adds the edited field at the end, as mod_headers' table calls do.
      {{{"Header", "edit", "Content-Type", "^text/", "application/"}}, Origin::kHandler,
       "HTTP/1.1 200 OK\r\nServer: app\r\nContent-Type: application/plain\r\n"
       "Content-Length: 5\r\n"},
      // Framing stays the front end's.
      {{{"Header", "unset", "Content-Length"}, {"Header", "set", "Connection", "close"}},
       Origin::kHandler,
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: app\r\nContent-Length: 5\r\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.want);
    rewrite::HeaderRules rules = rules_of(c.rules);
    std::string out = before + head;
    edit_response_head(&out, before.size(), rules, c.origin);
    CHECK(out == before + c.want);
  }
}

TEST_CASE("edit_request_headers: RequestHeader's edits in a buffer of their own") {
  std::string buf = "/urlHostaX-Forwarded-ProtohttpAcceptx";
  std::vector<HeaderSpan> spans = {{4, 4, 8, 1}, {9, 17, 26, 4}, {30, 6, 36, 1}};
  RequestHeaders in(buf, spans.data(), spans.size());
  rewrite::HeaderRules rules = rules_of({{"RequestHeader", "set", "X-Forwarded-Proto", "https"},
                                         {"RequestHeader", "unset", "Accept"},
                                         {"RequestHeader", "add", "X-New", "1"}});
  std::string ebuf;
  std::vector<HeaderSpan> espans;
  RequestHeaders out = edit_request_headers(in, rules, &ebuf, &espans);
  REQUIRE(out.size() == 3);
  CHECK(out.get("host") == "a");
  CHECK(out.get("x-forwarded-proto") == "https");
  CHECK(out.get("accept") == "");
  CHECK(out.get("x-new") == "1");
  CHECK(in.get("x-forwarded-proto") == "http");  // the request's own buffer is untouched
}
