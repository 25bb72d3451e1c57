// The LogFormat compiler: items, modifiers, conditions, and every error with
// its offset and exact text.
#include <doctest/doctest.h>

#include <string>

#include "supervisor/logformat/log_format.h"

using namespace wsgid::logformat;

namespace {

// A compact picture of the items: literals in quotes, directives as
// F<field number>[{arg}][!][statuses].
std::string shape(const Format& f) {
  std::string s;
  for (const Item& it : f.items) {
    if (!s.empty()) s += ' ';
    if (it.field == Field::kLiteral) {
      s += "'" + it.text + "'";
      continue;
    }
    s += 'F' + std::to_string(static_cast<int>(it.field));
    if (!it.text.empty()) s += "{" + it.text + "}";
    if (it.negate) s += '!';
    for (int st : it.statuses) s += "," + std::to_string(st);
  }
  return s;
}

std::string f(Field x) { return 'F' + std::to_string(static_cast<int>(x)); }

}  // namespace

TEST_CASE("compile: literals, escapes, directives and modifiers") {
  struct Case {
    const char* text;
    std::string want;
  } cases[] = {
      {"", ""},
      {"plain", "'plain'"},
      {"a\\tb\\nc\\rd\\\\e\\qf", "'a\tb\nc\rd\\e\\qf'"},
      {"100%%", "'100%'"},
      {"%%%%x", "'%%x'"},
      {"%h %l", f(Field::kRemoteHost) + " ' ' " + f(Field::kLogname)},
      {"%>s %<s %s", f(Field::kStatus) + " ' ' " + f(Field::kStatus) + " ' ' " + f(Field::kStatus)},
      {"%{Referer}i", f(Field::kHeaderIn) + "{Referer}"},
      {"%400,501{User-agent}i", f(Field::kHeaderIn) + "{User-agent},400,501"},
      {"%!200,304{Referer}i", f(Field::kHeaderIn) + "{Referer}!,200,304"},
      {"%{mod_wsgi.process_group}e", f(Field::kEnv) + "{mod_wsgi.process_group}"},
      {"%{error-notes}n %{Set-Cookie}o %{sid}C",
       f(Field::kNote) + "{error-notes} ' ' " + f(Field::kHeaderOut) + "{Set-Cookie} ' ' " +
           f(Field::kCookie) + "{sid}"},
      {"[%t]", "'[' " + f(Field::kTime) + " ']'"},
      {"%I %O %S %X %k %L %R %f", f(Field::kBytesIn) + " ' ' " + f(Field::kBytesOut) + " ' ' " +
                                      f(Field::kBytesAll) + " ' ' " + f(Field::kConnStatus) +
                                      " ' ' " + f(Field::kKeepAlives) + " ' ' " +
                                      f(Field::kLogId) + " ' ' " + f(Field::kHandler) + " ' ' " +
                                      f(Field::kFilename)},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    Compiled r = compile(c.text);
    REQUIRE_FALSE(r.error);
    CHECK(shape(r.format) == c.want);
  }
}

TEST_CASE("compile: every letter of the table is known") {
  for (const char* d : {"%a", "%{c}a", "%A", "%b", "%B", "%{x}C", "%D", "%{X}e", "%f", "%h",
                        "%{c}h", "%H", "%{X}i", "%I", "%k", "%l", "%L", "%m", "%{X}n", "%{X}o",
                        "%O", "%p", "%P", "%q", "%r", "%R", "%s", "%S", "%t", "%{%Y}t", "%T",
                        "%{ms}T", "%u", "%U", "%v", "%V", "%X", "%>s", "%<s"}) {
    CAPTURE(std::string(d));
    Compiled r = compile(d);
    CHECK_FALSE(r.error);
    REQUIRE(r.format.items.size() == 1);
    CHECK(r.format.items[0].field != Field::kLiteral);
  }
}

TEST_CASE("compile: the forms of %t, %T, %p, %P and %{c}a") {
  struct TimeCase {
    const char* text;
    TimeForm form;
    bool at_end;
    const char* rest;
  } times[] = {
      {"%t", TimeForm::kClf, false, ""},
      {"%{begin}t", TimeForm::kClf, false, ""},
      {"%{end}t", TimeForm::kClf, true, ""},
      {"%{%d/%b/%Y %T}t", TimeForm::kStrftime, false, "%d/%b/%Y %T"},
      {"%{begin:%H}t", TimeForm::kStrftime, false, "%H"},
      {"%{end:%H}t", TimeForm::kStrftime, true, "%H"},
      {"%{sec}t", TimeForm::kSec, false, "sec"},
      {"%{msec}t", TimeForm::kMsec, false, "msec"},
      {"%{end:usec}t", TimeForm::kUsec, true, "usec"},
      {"%{msec_frac}t", TimeForm::kMsecFrac, false, "msec_frac"},
      {"%{begin:usec_frac}t", TimeForm::kUsecFrac, false, "usec_frac"},
      {"%{beginning %Y}t", TimeForm::kStrftime, false, "beginning %Y"},
  };
  for (const auto& c : times) {
    CAPTURE(std::string(c.text));
    Compiled r = compile(c.text);
    REQUIRE_FALSE(r.error);
    CHECK(r.format.items[0].time == c.form);
    CHECK(r.format.items[0].at_end == c.at_end);
    CHECK(r.format.items[0].text == c.rest);
  }
  CHECK(compile("%T").format.items[0].unit == DurationUnit::kSeconds);
  CHECK(compile("%{s}T").format.items[0].unit == DurationUnit::kSeconds);
  CHECK(compile("%{ms}T").format.items[0].unit == DurationUnit::kMillis);
  CHECK(compile("%{us}T").format.items[0].unit == DurationUnit::kMicros);
  CHECK(compile("%p").format.items[0].port == PortForm::kCanonical);
  CHECK(compile("%{canonical}p").format.items[0].port == PortForm::kCanonical);
  CHECK(compile("%{local}p").format.items[0].port == PortForm::kLocal);
  CHECK(compile("%{remote}p").format.items[0].port == PortForm::kRemote);
  CHECK(compile("%P").format.items[0].pid == PidForm::kPid);
  CHECK(compile("%{tid}P").format.items[0].pid == PidForm::kTid);
  CHECK(compile("%{hextid}P").format.items[0].pid == PidForm::kHexTid);
  CHECK(compile("%{c}a").format.items[0].peer);
  CHECK_FALSE(compile("%a").format.items[0].peer);
}

TEST_CASE("compile: errors name the place and say what to write") {
  struct Case {
    const char* text;
    size_t offset, length;
    const char* message;
    const char* hint_start;
  } cases[] = {
      {"%h %Z", 4, 1, "unknown LogFormat directive '%Z'", "wsgid knows %% %a"},
      {"%{SSL_PROTOCOL}x", 15, 1, "unknown LogFormat directive '%x'", "wsgid knows"},
      {"%^FB", 1, 1, "unknown LogFormat directive '%^'", "wsgid knows"},
      {"abc %", 4, 1, "'%' at the end of the format", "write %% for a literal '%'"},
      {"%>", 0, 2, "'%' at the end of the format", "write %%"},
      {"%{Referer i", 1, 10, "'{' without its '}'", "close the argument"},
      {"%{min}T", 2, 3, "unknown unit 'min' in %{min}T", "write %{s}T, %{ms}T or %{us}T"},
      {"%{server}p", 2, 6, "unknown form 'server' in %{server}p", "write %p, %{canonical}p"},
      {"%{thread}P", 2, 6, "unknown form 'thread' in %{thread}P", "write %P, %{pid}P"},
      {"%i", 0, 2, "%{NAME}i needs a name", "write the name between braces: %{User-Agent}i"},
      {"%{}e", 0, 4, "%{NAME}e needs a name", "write the name"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    Compiled r = compile(c.text);
    REQUIRE(r.error);
    CHECK(r.error->offset == c.offset);
    CHECK(r.error->length == c.length);
    CHECK(r.error->message == c.message);
    CHECK(r.error->hint.rfind(c.hint_start, 0) == 0);
    CHECK(r.format.items.empty());
  }
}
