// The WSGI environ of one request, from the kRequestHead pairs the front end sent
// (protocol/PROTOCOL.md 5.2 and 6).
//
// scan_request_head() is pure (any thread, no Python): it finds the values the
// worker itself needs before entering an interpreter. build_environ() runs with
// the GIL held in the request's interpreter: a copy of the interpreter's
// template (wsgi.version, multithread, multiprocess, run_once, input_terminated,
// file_wrapper) plus every pair as a latin-1 native string, minus the worker's
// own "wsgid.*" keys, plus wsgi.url_scheme from HTTPS. wsgi.input and wsgi.errors
// are added by the runtime's handle().
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace wsgid::worker {

struct RequestInfo {
  std::string_view method;
  std::string_view uri;               // REQUEST_URI, else SCRIPT_NAME + PATH_INFO is not rebuilt
  std::string_view script;            // SCRIPT_FILENAME
  std::string_view callable = "application";  // mod_wsgi.callable_object
  std::string_view application_group;  // mod_wsgi.application_group ("" = main)
  // mod_wsgi's module reloading: mod_wsgi.script_reloading "1" and
  // mod_wsgi.process_group "" (embedded mode; a daemon group's process is
  // replaced by the master instead, see supervisor/master/script_watch.h).
  bool reload_script = false;
  int64_t request_start_us = 0;       // wsgid.request_start; 0 = not sent
  bool https = false;
  // The request body's length: CONTENT_LENGTH (digits only), 0 without one
  // and without HTTP_TRANSFER_ENCODING; -1 unknown (a chunked body, or a
  // CONTENT_LENGTH that is not a number).
  int64_t body_length = 0;
};

// Views point into payload. Errors: the pair decoder's message, or
// "request head has no SCRIPT_FILENAME", "wsgid.request_start is not a number: 'x'".
Status scan_request_head(std::string_view payload, RequestInfo* info);

// True for keys the application never sees ("wsgid.*").
bool hidden_key(std::string_view key);

// True when the HTTPS variable means TLS ("on", "1", "yes", "true", any case).
bool https_on(std::string_view value);

// The environ's key strings, kept from one request to the next in one
// interpreter: a key seen before costs a lookup instead of a str allocation, a
// latin-1 decode and a hash (str objects cache their hash). Holds at most
// kMaxKeys keys (header names are the client's choice); the rest are decoded
// per request. The front end writes a route's variables in the same order every
// time, so the key at each position is first compared with the one that was
// there last time, which spares the hash lookup (4% of a worker's CPU on hello).
// Used with the GIL held in its interpreter only; the strings belong to that
// interpreter and live as long as it does.
class EnvironKeys {
 public:
  static constexpr size_t kMaxKeys = 256;
  // A new reference to the str for key, the position-th key of its request;
  // nullptr with the Python error set.
  PyObject* get(std::string_view key, size_t position);
  size_t size() const { return map_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, PyObject*, Hash, std::equal_to<>>;
  Map map_;
  // The entry met at each position last time (map nodes do not move).
  std::vector<const Map::value_type*> last_;
};

// New reference, or nullptr with a Python error set.
PyObject* build_environ(PyObject* environ_template, std::string_view payload, bool https,
                        EnvironKeys* keys = nullptr);

}  // namespace wsgid::worker
