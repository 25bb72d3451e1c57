// LogFormat: Apache's mod_log_config format strings, compiled once.
//
// compile() turns a format string ("%h %l %u %t \"%r\" %>s %b") into a list of
// items: literal text (with mod_log_config's escapes \n \t \r \\ already
// resolved) and directives, each with its argument (%{Referer}i), its status
// condition (%400,501{User-agent}i logs the value only for those statuses,
// %!200,304{Referer}i for every other one; otherwise "-") and its pre-parsed form
// (the unit of %{ms}T, the clock of %{end:%H:%M}t ...). The config parser
// compiles every LogFormat and CustomLog format to report errors at --check; the
// front end compiles each CustomLog once per settings and never parses a format at
// request time (log_line.h renders the items).
//
// Directives known, as in Apache 2.4's mod_log_config and mod_logio (what each
// logs in wsgid is in log_line.h): %% %a %{c}a %A %b %B %{NAME}C %D %{VAR}e %f %h
// %{c}h %H %{NAME}i %I %k %l %L %m %{NAME}n %{NAME}o %O %p %{canonical|local|remote}p
// %P %{pid|tid|hextid}P %q %r %R %s %S %t %{FORMAT}t %T %{s|ms|us}T %u %U %v %V %X,
// with the modifiers < and > (original or final request: one and the same in
// wsgid, which makes no internal redirects). Anything else is an error: a format
// is never logged with a silent "-" for a directive wsgid does not know.
//
// Pure functions on values; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsgid::logformat {

enum class Field {
  kLiteral,       // text
  kRemoteAddr,    // %a; arg "c": the peer's address (the proxy's under mod_remoteip)
  kLocalAddr,     // %A
  kBodyBytesClf,  // %b: "-" for none
  kBodyBytes,     // %B: "0" for none
  kCookie,        // %{NAME}C
  kDurationUs,    // %D
  kEnv,           // %{VAR}e
  kFilename,      // %f
  kRemoteHost,    // %h, %{c}h
  kProtocol,      // %H
  kHeaderIn,      // %{NAME}i
  kBytesIn,       // %I
  kKeepAlives,    // %k
  kLogname,       // %l
  kLogId,         // %L
  kMethod,        // %m
  kNote,          // %{NAME}n
  kHeaderOut,     // %{NAME}o
  kBytesOut,      // %O
  kPort,          // %p
  kPid,           // %P
  kQuery,         // %q
  kRequestLine,   // %r
  kHandler,       // %R
  kStatus,        // %s, %>s, %<s
  kBytesAll,      // %S
  kTime,          // %t, %{FORMAT}t
  kDuration,      // %T, %{UNIT}T
  kUser,          // %u
  kUrlPath,       // %U
  kServerName,    // %v
  kHostName,      // %V
  kConnStatus,    // %X
};

// %{...}t: which clock and which shape.
enum class TimeForm { kClf, kStrftime, kSec, kMsec, kUsec, kMsecFrac, kUsecFrac };
// %{UNIT}T
enum class DurationUnit { kSeconds, kMillis, kMicros };
// %{...}p
enum class PortForm { kCanonical, kLocal, kRemote };
// %{...}P
enum class PidForm { kPid, kTid, kHexTid };

struct Item {
  Field field = Field::kLiteral;
  std::string text;            // the literal, or the {argument} ("" when none)
  std::vector<int> statuses;   // the status condition; empty = always
  bool negate = false;         // '!': log unless the status is listed
  bool peer = false;           // %{c}a, %{c}h
  TimeForm time = TimeForm::kClf;
  bool at_end = false;         // %{end:...}t: the time the request ended
  DurationUnit unit = DurationUnit::kSeconds;
  PortForm port = PortForm::kCanonical;
  PidForm pid = PidForm::kPid;
};

struct Format {
  std::vector<Item> items;
};

// Where and why a format string is wrong: offset and length in the format text
// (bytes), a one-line message ("unknown LogFormat directive '%Z'") and what to
// write instead.
struct FormatError {
  size_t offset = 0;
  size_t length = 1;
  std::string message;
  std::string hint;
};

struct Compiled {
  Format format;
  std::optional<FormatError> error;  // set: format is empty
};

// Compiles text. Errors (each with its offset):
//   "unknown LogFormat directive '%Z'"          (hint: the directives wsgid knows)
//   "'%' at the end of the format"              (hint: write %% for a literal '%')
//   "'{' without its '}'"                        (hint: close the argument)
//   "unknown unit 'X' in %{X}T"                  (hint: s, ms or us)
//   "unknown form 'X' in %{X}p"                  (hint: canonical, local or remote)
//   "unknown form 'X' in %{X}P"                  (hint: pid, tid or hextid)
//   "%{NAME}X needs a name"                      (for C, e, i, n, o)
Compiled compile(std::string_view text);

}  // namespace wsgid::logformat
