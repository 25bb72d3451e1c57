#include "supervisor/authn/htpasswd.h"

#include <apr_general.h>
#include <apr_md5.h>
#include <dlfcn.h>

#include <array>

#include "supervisor/authn/cfg_lines.h"

namespace wsgid::authn {
namespace {

// mod_authn_file reads with ap_cfg_getline into a MAX_STRING_LEN (8192) buffer.
constexpr size_t kMaxLine = 8190;

// The prefixes apr_password_validate or crypt(3) (libxcrypt) recognise.
constexpr std::array<std::string_view, 13> kHashPrefixes = {
    "$2y$", "$2a$", "$2b$", "$apr1$", "{SHA}", "$1$", "$5$",
    "$6$",  "$y$",  "$gy$", "$7$",    "$sha1$", "$md5",
};

bool is_des_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '/';
}

bool known_format(std::string_view hash) {
  for (std::string_view p : kHashPrefixes) {
    if (hash.substr(0, p.size()) == p) return true;
  }
  if (hash.size() == 13) {  // traditional DES crypt (htpasswd -d)
    for (char c : hash) {
      if (!is_des_char(c)) return false;
    }
    return true;
  }
  return false;
}

// apr-util's password check, loaded with dlopen() the first time a user file is
// read: a front end with no AuthUserFile never maps libaprutil, libapr and what
// they link (libcrypt, libexpat, libuuid: about 360 KiB of its memory; the
// same reason as docs/decisions.md 51). APR wants apr_initialize() once before
// use; a function-local static makes the first caller do both and every other
// wait for it. Any thread.
struct Apr {
  decltype(&::apr_password_validate) password_validate = nullptr;
  Status status;
};

const Apr& apr() {
  static const Apr loaded = [] {
    Apr a;
    const char* const kLibrary = "libaprutil-1.so.0";
    void* h = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    auto sym = [&](const char* name) { return h ? ::dlsym(h, name) : nullptr; };
    auto init = reinterpret_cast<decltype(&::apr_initialize)>(sym("apr_initialize"));
    auto error_text = reinterpret_cast<decltype(&::apr_strerror)>(sym("apr_strerror"));
    a.password_validate = reinterpret_cast<decltype(&::apr_password_validate)>(sym("apr_password_validate"));
    if (!h) {
      const char* why = ::dlerror();
      a.status = Status::error(std::string("dlopen(") + kLibrary + "): " + (why ? why : "failed") +
                               " (Debian's libaprutil1 checks the password hashes)");
    } else if (!init || !error_text || !a.password_validate) {
      a.status = Status::error(std::string(kLibrary) + ": apr_initialize, apr_strerror or "
                               "apr_password_validate not found");
    } else if (const apr_status_t rv = init(); rv != APR_SUCCESS) {
      char buf[256];
      a.status = Status::error(std::string("apr_initialize: ") + error_text(rv, buf, sizeof buf));
    } else {
      a.status = Status::ok();
    }
    return a;
  }();
  return loaded;
}

const Status& apr_ready() { return apr().status; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

PasswordTable PasswordTable::parse(std::string_view path, std::string_view text) {
  PasswordTable t;
  const std::string where(path);
  auto at = [&](size_t line) { return where + ":" + std::to_string(line) + ": "; };
  CfgLines lines = split_cfg_lines(text, kMaxLine);
  for (const CfgLine& l : lines.lines) {
    std::string_view rest = l.text;
    const bool has_colon = rest.find(':') != std::string_view::npos;
    std::string_view user = cfg_getword(&rest, ':');
    std::string_view hash = cfg_getword(&rest, ':');
    if (user.empty()) {
      t.diagnostics_.push_back(at(l.number) + "empty user name; line ignored");
      continue;
    }
    Entry e{l.number, std::string(hash), ""};
    if (!has_colon) {
      e.error = at(l.number) + "no ':' after the user name " + quoted(user) + "; user " +
                quoted(user) + " cannot log in";
    } else if (hash.empty()) {
      e.error = at(l.number) + "empty password hash for user " + quoted(user) + "; user " +
                quoted(user) + " cannot log in";
    }
    auto [it, inserted] = t.entries_.try_emplace(std::string(user), e);
    if (!inserted) {
      t.diagnostics_.push_back(at(l.number) + "user " + quoted(user) +
                               " already has an entry on line " +
                               std::to_string(it->second.line) + ", which wins (as in Apache)");
      continue;
    }
    if (!e.error.empty()) {
      t.diagnostics_.push_back(e.error);
    } else if (!known_format(hash)) {
      t.diagnostics_.push_back(at(l.number) + "hash of user " + quoted(user) +
                               " is in no format Apache checks on this system (a plain-text "
                               "password from htpasswd -p?); it never matches");
    }
  }
  if (lines.too_long_at != 0) {
    t.diagnostics_.push_back(at(lines.too_long_at) + "line longer than " +
                             std::to_string(kMaxLine) +
                             " bytes; Apache stops reading the file here, so the lines after "
                             "it are ignored");
  }
  return t;
}

const PasswordTable::Entry* PasswordTable::find(std::string_view user) const {
  auto it = entries_.find(user);
  return it == entries_.end() ? nullptr : &it->second;
}

bool password_matches(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  if (hash.find('\0') != std::string::npos) return false;
  if (!apr_ready()) return false;
  const std::string pw(password);
  return apr().password_validate(pw.c_str(), hash.c_str()) == APR_SUCCESS;
}

UserFile::UserFile(std::string path) : file_(std::move(path), &PasswordTable::parse) {
  (void)apr_ready();
}

Verdict UserFile::check(std::string_view user, std::string_view password) {
  Verdict v;
  if (const Status& ready = apr_ready(); !ready) {
    v.error = ready.message();
    return v;
  }
  auto current = file_.current();
  if (!current) {
    v.error = current.status().message();
    return v;
  }
  if (current->reloaded) v.warnings = current->table->diagnostics();
  const PasswordTable::Entry* e = current->table->find(user);
  if (e == nullptr) {
    v.outcome = Outcome::kNoSuchUser;
  } else if (!e->error.empty()) {
    v.error = e->error;
  } else {
    v.outcome = password_matches(password, e->hash) ? Outcome::kGranted : Outcome::kDenied;
  }
  return v;
}

}  // namespace wsgid::authn
