// AuthUserFile: Basic-auth passwords checked against an htpasswd file, with
// Apache's mod_authn_file semantics and libaprutil's apr_password_validate(),
// which knows every format Debian's htpasswd writes: bcrypt ($2y$, -B), Apache
// MD5 ($apr1$, -m, the default), SHA-1 ({SHA}, -s) and crypt(3): DES (-d),
// SHA-256 ($5$, -2), SHA-512 ($6$, -5). Plain-text entries (-p) never match on
// Linux, exactly as in Apache:
// apr_password_validate hands unknown formats to crypt(3), and accepts plain
// text only on Windows and NetWare.
//
// The file is read as mod_authn_file reads it: Apache's line rules (cfg_lines.h);
// "user:hash" with the user before the first ':' and the hash up to the next
// one (more fields are ignored); the first entry for a user wins. A changed file
// takes effect at the next check() (reloading_file.h), as Apache reads the file
// per request.
//
// Diagnostics, "PATH:LINE: message", are made once per load and handed to the
// caller whose check() loaded the file (Verdict::warnings), to be logged once.
// A malformed line never grants anything: when the first line naming a user is
// malformed (no ':' after the user, an empty hash), check() for that user is an
// Error naming the line (a 500 and the line in the log; Apache would answer 401
// and say nothing), so a broken entry is found rather than mistaken for a wrong
// password. A line with an empty user name is ignored (no credentials can carry
// one: basic.h). A line longer than Apache's 8 KiB buffer stops the reading there,
// as it stops Apache's.
//
// Thread-safe and blocking: check() stats the file, reads it when it changed,
// and for bcrypt spends milliseconds in apr_password_validate, so the front end
// calls it on a uv_queue_work thread, never on the loop thread. Any number of
// threads may call check() on one UserFile at once; apr_password_validate uses
// crypt_r (no static buffer) and no pool. The UserFile must outlive every call in
// progress. APR is loaded (dlopen of libaprutil: a process without a user file
// never maps it) and initialised once per process, on the first UserFile made
// (apr_initialize, which APR requires before any other call); it is never
// terminated, because a thread may still be checking at exit.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/authn/reloading_file.h"

namespace wsgid::authn {

// The parsed file. Pure: parse() does no I/O, find() is const.
class PasswordTable {
 public:
  struct Entry {
    size_t line = 0;
    std::string hash;   // as in the file
    std::string error;  // non-empty: the entry is malformed ("PATH:LINE: ...")
  };

  // Never fails; what is wrong is in diagnostics(). Messages:
  //   "PATH:N: no ':' after the user name 'U'; user 'U' cannot log in"
  //   "PATH:N: empty password hash for user 'U'; user 'U' cannot log in"
  //   "PATH:N: empty user name; line ignored"
  //   "PATH:N: user 'U' already has an entry on line M, which wins (as in Apache)"
  //   "PATH:N: hash of user 'U' is in no format Apache checks on this system
  //    (a plain-text password from htpasswd -p?); it never matches"
  //   "PATH:N: line longer than 8190 bytes; Apache stops reading the file here,
  //    so the lines after it are ignored"
  static PasswordTable parse(std::string_view path, std::string_view text);

  // The first entry for user, or nullptr.
  const Entry* find(std::string_view user) const;
  const std::vector<std::string>& diagnostics() const { return diagnostics_; }

 private:
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::string> diagnostics_;
};

// apr_password_validate(password, hash) == APR_SUCCESS. Thread-safe, blocking
// (milliseconds for bcrypt). False when password holds a NUL byte (the C API
// would check only the part before it).
bool password_matches(std::string_view password, const std::string& hash);

enum class Outcome {
  kGranted,     // the password matches
  kDenied,      // the user exists, the password does not match (AUTH_DENIED)
  kNoSuchUser,  // no entry for the user (AUTH_USER_NOT_FOUND)
  kError,       // the file cannot be read, or the user's entry is malformed (AUTH_GENERAL_ERROR)
};

struct Verdict {
  Outcome outcome = Outcome::kError;
  std::string error;                  // kError: why, naming the file (and line)
  std::vector<std::string> warnings;  // the diagnostics of a load this call did
};

class UserFile {
 public:
  // path as AuthUserFile resolved it (absolute). Nothing is read yet: a missing
  // file is an Error at the first check(), as in Apache.
  explicit UserFile(std::string path);

  // Blocking, thread-safe (see above). Errors: those of ReloadingFile::current(),
  // and a malformed entry's diagnostic.
  Verdict check(std::string_view user, std::string_view password);

  const std::string& path() const { return file_.path(); }

 private:
  ReloadingFile<PasswordTable> file_;
};

}  // namespace wsgid::authn
