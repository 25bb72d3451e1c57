// HTTP Basic authentication on the wire (RFC 7617), as Apache's mod_auth_basic
// reads and writes it: the credentials of an `Authorization` header value, and
// the `WWW-Authenticate` value of a 401.
//
// Pure functions on strings: any thread, no state, nothing blocks. The front end
// calls parse_basic_credentials() on the value of the request's Authorization
// header (never Proxy-Authorization) and, on any error, answers 401 with
// basic_challenge(AuthName) as mod_auth_basic does (its get_basic_auth() answers
// 401 for a missing header and for another scheme alike); the error message is
// for the log. basic_challenge() can be called once per AuthName when the
// configuration is loaded: it fails only for realms no header can carry.
//
// Where wsgid is stricter than Apache, it refuses what Apache would have decoded
// into credentials no password file can match, so no request is granted that
// Apache would have refused: the base64 must be canonical (Apache stops decoding
// at the first bad byte), the decoded text must hold a ':' (Apache takes the
// whole text as the user and an empty password), the user must not be empty,
// and neither part may hold a control character (C0 or DEL; a NUL would cut the
// password short in libaprutil's C-string API). Bytes 0x80-0xFF pass as they
// are: RFC 7617 lets clients send UTF-8 (charset="UTF-8"), older ones Latin-1,
// and Apache compares the bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wsgid::authn {

struct BasicCredentials {
  std::string user;      // not empty, no control character, no ':'
  std::string password;  // may be empty or hold ':'; no control character
};

// Parses an Authorization header value: "Basic", case-insensitively, then one or
// more spaces or tabs, then base64 of "user:password", split at the first ':'.
// Spaces and tabs around the value are ignored (HTTP's optional whitespace).
// Errors:
//   "no credentials" (empty value)
//   "authentication scheme 'X' is not Basic"
//   "Basic credentials: " + a decode_base64() error (base64.h)
//   "Basic credentials: no ':' between user and password"
//   "Basic credentials: empty user name"
//   "Basic credentials: control character 0xHH in the user name"
//   "Basic credentials: control character in the password" (never echoed)
Result<BasicCredentials> parse_basic_credentials(std::string_view header_value);

// The WWW-Authenticate value for realm: `Basic realm="REALM"`, with every '"'
// not already escaped by a backslash escaped as Apache's ap_escape_quotes()
// does it for AuthName (mod_authn_core) and a backslash before any other byte
// left as it is. One departure: Apache leaves a trailing lone backslash as it
// is, which escapes the closing quote and makes the header unparsable; wsgid
// doubles it. Errors:
//   "AuthName: control character 0xHH in the realm" (any C0 byte but tab, or
//   DEL: CR or LF would split the header, and a field value holds none of them)
Result<std::string> basic_challenge(std::string_view realm);

}  // namespace wsgid::authn
