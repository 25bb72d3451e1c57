// The format compiler: mod_log_config's parse_log_string / parse_log_item,
// with an error where Apache would log a directive's argument or "-" for
// something it does not know.
#include "supervisor/logformat/log_format.h"

namespace wsgid::logformat {

namespace {

constexpr std::string_view kKnown =
    "wsgid knows %% %a %A %b %B %{NAME}C %D %{VAR}e %f %h %H %{NAME}i %I %k %l %L %m "
    "%{NAME}n %{NAME}o %O %p %P %q %r %R %s %S %t %T %u %U %v %V %X";

struct Letter {
  char c;
  Field field;
  bool needs_arg;  // %{NAME}i and the like: no name is an error
};

// The directive table, as mod_log_config's log_pre_config and mod_logio register it.
constexpr Letter kLetters[] = {
    {'a', Field::kRemoteAddr, false},   {'A', Field::kLocalAddr, false},
    {'b', Field::kBodyBytesClf, false}, {'B', Field::kBodyBytes, false},
    {'C', Field::kCookie, true},        {'D', Field::kDurationUs, false},
    {'e', Field::kEnv, true},           {'f', Field::kFilename, false},
    {'h', Field::kRemoteHost, false},   {'H', Field::kProtocol, false},
    {'i', Field::kHeaderIn, true},      {'I', Field::kBytesIn, false},
    {'k', Field::kKeepAlives, false},   {'l', Field::kLogname, false},
    {'L', Field::kLogId, false},        {'m', Field::kMethod, false},
    {'n', Field::kNote, true},          {'o', Field::kHeaderOut, true},
    {'O', Field::kBytesOut, false},     {'p', Field::kPort, false},
    {'P', Field::kPid, false},          {'q', Field::kQuery, false},
    {'r', Field::kRequestLine, false},  {'R', Field::kHandler, false},
    {'s', Field::kStatus, false},       {'S', Field::kBytesAll, false},
    {'t', Field::kTime, false},         {'T', Field::kDuration, false},
    {'u', Field::kUser, false},         {'U', Field::kUrlPath, false},
    {'v', Field::kServerName, false},   {'V', Field::kHostName, false},
    {'X', Field::kConnStatus, false},
};

const Letter* find_letter(char c) {
  for (const Letter& l : kLetters)
    if (l.c == c) return &l;
  return nullptr;
}

// Literal text up to the next '%', with mod_log_config's backslash escapes
// (parse_log_misc_string): \\ \r \n \t; any other backslash stays as written.
size_t literal(std::string_view s, size_t i, std::string* out) {
  while (i < s.size() && s[i] != '%') {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out->push_back(s[i++]);
      continue;
    }
    switch (s[i + 1]) {
      case '\\': out->push_back('\\'); i += 2; break;
      case 'r': out->push_back('\r'); i += 2; break;
      case 'n': out->push_back('\n'); i += 2; break;
      case 't': out->push_back('\t'); i += 2; break;
      default: out->push_back('\\'); ++i; break;
    }
  }
  return i;
}

// %{...}t: [begin|end][:]then sec, msec, usec, msec_frac, usec_frac or a strftime
// format (Apache 2.4's log_request_time).
void time_form(Item* it) {
  std::string_view a = it->text;
  for (std::string_view clock : {"begin", "end"}) {
    if (a.substr(0, clock.size()) != clock) continue;
    std::string_view rest = a.substr(clock.size());
    if (!rest.empty() && rest[0] != ':') break;  // "beginning %Y": a strftime format
    it->at_end = clock == "end";
    a = rest.empty() ? rest : rest.substr(1);
    break;
  }
  if (a.empty()) it->time = TimeForm::kClf;
  else if (a == "sec") it->time = TimeForm::kSec;
  else if (a == "msec") it->time = TimeForm::kMsec;
  else if (a == "usec") it->time = TimeForm::kUsec;
  else if (a == "msec_frac") it->time = TimeForm::kMsecFrac;
  else if (a == "usec_frac") it->time = TimeForm::kUsecFrac;
  else it->time = TimeForm::kStrftime;
  it->text = std::string(a);
}

}  // namespace

Compiled compile(std::string_view s) {
  Compiled out;
  auto fail = [&](size_t offset, size_t length, std::string message, std::string hint) {
    out.format.items.clear();
    out.error = FormatError{offset, length, std::move(message), std::move(hint)};
    return out;
  };
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '%') {
      Item it;
      i = literal(s, i, &it.text);
      // Join with a preceding literal (a "%%" before it, say).
      if (!out.format.items.empty() && out.format.items.back().field == Field::kLiteral)
        out.format.items.back().text += it.text;
      else
        out.format.items.push_back(std::move(it));
      continue;
    }
    size_t start = i++;
    Item it;
    bool has_arg = false;
    size_t arg_at = 0;
    for (;;) {
      if (i >= s.size())
        return fail(start, i - start, "'%' at the end of the format",
                    "write %% for a literal '%', or finish the directive");
      char c = s[i];
      if (c == '!') {
        it.negate = !it.negate;
        ++i;
      } else if (c == '<' || c == '>' || c == ',') {
        ++i;  // original or final request: the same here (no internal redirects)
      } else if (c == '{') {
        size_t close = s.find('}', i + 1);
        if (close == std::string_view::npos)
          return fail(i, s.size() - i, "'{' without its '}'",
                      "close the argument: %{User-Agent}i");
        it.text = std::string(s.substr(i + 1, close - i - 1));
        has_arg = true;
        arg_at = i + 1;
        i = close + 1;
      } else if (c >= '0' && c <= '9') {
        int v = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 100000) v = v * 10 + (s[i++] - '0');
        it.statuses.push_back(v);
      } else {
        break;
      }
    }
    char c = s[i];
    size_t len = i + 1 - start;
    if (c == '%') {
      ++i;
      if (!out.format.items.empty() && out.format.items.back().field == Field::kLiteral)
        out.format.items.back().text += '%';
      else
        out.format.items.push_back(Item{Field::kLiteral, "%"});
      continue;
    }
    const Letter* l = find_letter(c);
    if (!l)
      return fail(i, 1, "unknown LogFormat directive '%" + std::string(1, c) + "'",
                  std::string(kKnown));
    it.field = l->field;
    std::string_view arg = it.text;
    if (l->needs_arg && arg.empty())
      return fail(start, len, "%{NAME}" + std::string(1, c) + " needs a name",
                  "write the name between braces: %{User-Agent}" + std::string(1, c));
    switch (l->field) {
      case Field::kRemoteAddr:
      case Field::kRemoteHost:
        it.peer = arg == "c";  // any other argument is ignored, as in Apache
        break;
      case Field::kTime:
        if (has_arg) time_form(&it);
        break;
      case Field::kDuration:
        if (arg.empty() || arg == "s") it.unit = DurationUnit::kSeconds;
        else if (arg == "ms") it.unit = DurationUnit::kMillis;
        else if (arg == "us") it.unit = DurationUnit::kMicros;
        else
          return fail(arg_at, arg.size(), "unknown unit '" + it.text + "' in %{" + it.text + "}T",
                      "write %{s}T, %{ms}T or %{us}T");
        break;
      case Field::kPort:
        if (arg.empty() || arg == "canonical") it.port = PortForm::kCanonical;
        else if (arg == "local") it.port = PortForm::kLocal;
        else if (arg == "remote") it.port = PortForm::kRemote;
        else
          return fail(arg_at, arg.size(), "unknown form '" + it.text + "' in %{" + it.text + "}p",
                      "write %p, %{canonical}p, %{local}p or %{remote}p");
        break;
      case Field::kPid:
        if (arg.empty() || arg == "pid") it.pid = PidForm::kPid;
        else if (arg == "tid") it.pid = PidForm::kTid;
        else if (arg == "hextid") it.pid = PidForm::kHexTid;
        else
          return fail(arg_at, arg.size(), "unknown form '" + it.text + "' in %{" + it.text + "}P",
                      "write %P, %{pid}P, %{tid}P or %{hextid}P");
        break;
      default:
        break;
    }
    ++i;
    out.format.items.push_back(std::move(it));
  }
  return out;
}

}  // namespace wsgid::logformat
