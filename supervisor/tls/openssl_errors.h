// The text of OpenSSL's error queue for a message, for every user of OpenSSL
// (the TLS module's certificate checks, contexts and sessions). Header-only:
// include it only where openssl_dep is a dependency.
#pragma once

#include <openssl/err.h>

#include <string>

namespace wsgid {

// Empties the calling thread's OpenSSL error queue (ERR_get_error(3)) into
// "error:0480006C:PEM routines::no start line; ...", oldest first; if_none when
// the queue held nothing.
inline std::string openssl_errors(const char* if_none) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? if_none : out;
}

}  // namespace wsgid
