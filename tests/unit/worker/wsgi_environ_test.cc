#include <doctest/doctest.h>

#include <string>

#include "protocol/messages.h"
#include "worker/wsgi_environ.h"

using namespace wsgid;
using namespace wsgid::worker;

namespace {
std::string payload(const proto::KeyValues& kv) {
  std::string out;
  proto::append_request_head(&out, 1, kv);
  return out.substr(proto::kHeaderSize);
}
}  // namespace

TEST_CASE("scan_request_head: the values the worker needs") {
  std::string p = payload({{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/a?b"},
                           {"SCRIPT_FILENAME", "/srv/app.wsgi"}, {"HTTPS", "On"},
                           {"mod_wsgi.callable_object", "app"},
                           {"mod_wsgi.application_group", "host|/a"},
                           {"wsgid.request_start", "1700000000123456"}});
  RequestInfo info;
  REQUIRE(scan_request_head(p, &info).is_ok());
  CHECK(info.method == "POST");
  CHECK(info.uri == "/a?b");
  CHECK(info.script == "/srv/app.wsgi");
  CHECK(info.https);
  CHECK(info.callable == "app");
  CHECK(info.application_group == "host|/a");
  CHECK(info.request_start_us == 1700000000123456);
}

TEST_CASE("scan_request_head: defaults") {
  RequestInfo info;
  REQUIRE(scan_request_head(payload({{"SCRIPT_FILENAME", "/x"}, {"mod_wsgi.callable_object", ""}}), &info).is_ok());
  CHECK(info.callable == "application");
  CHECK(info.application_group == "");
  CHECK(info.request_start_us == 0);
  CHECK_FALSE(info.https);
  CHECK(info.body_length == 0);
}

TEST_CASE("scan_request_head: the body's length") {
  struct Case {
    proto::KeyValues pairs;
    int64_t length;
  };
  for (const Case& c : std::vector<Case>{
           {{{"CONTENT_LENGTH", "1048576"}}, 1048576},
           {{{"CONTENT_LENGTH", "0"}}, 0},
           {{{"HTTP_TRANSFER_ENCODING", "chunked"}}, -1},
           {{{"CONTENT_LENGTH", "12x"}}, -1},
           {{{"CONTENT_LENGTH", "-5"}}, -1},
           {{{"CONTENT_LENGTH", ""}}, -1},
           {{}, 0},
       }) {
    auto pairs = c.pairs;
    pairs.emplace_back("SCRIPT_FILENAME", "/x");
    RequestInfo info;
    REQUIRE(scan_request_head(payload(pairs), &info).is_ok());
    CHECK(info.body_length == c.length);
  }
}

TEST_CASE("scan_request_head: mod_wsgi reloads the script module in embedded mode only") {
  struct Case {
    const char* what;
    proto::KeyValues pairs;
    bool reload;
  } cases[] = {
      {"embedded, reloading On",
       {{"mod_wsgi.process_group", ""}, {"mod_wsgi.script_reloading", "1"}}, true},
      {"embedded, reloading Off",
       {{"mod_wsgi.process_group", ""}, {"mod_wsgi.script_reloading", "0"}}, false},
      {"a daemon group: the master replaces the process instead",
       {{"mod_wsgi.process_group", "site1"}, {"mod_wsgi.script_reloading", "1"}}, false},
      {"no process group sent", {{"mod_wsgi.script_reloading", "1"}}, false},
      {"no script_reloading sent", {{"mod_wsgi.process_group", ""}}, false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    proto::KeyValues kv = c.pairs;
    kv.push_back({"SCRIPT_FILENAME", "/srv/app.wsgi"});
    RequestInfo info;
    REQUIRE(scan_request_head(payload(kv), &info).is_ok());
    CHECK(info.reload_script == c.reload);
  }
}

TEST_CASE("scan_request_head: errors") {
  struct Case { std::string payload; const char* error; };
  const Case cases[] = {
      {payload({{"REQUEST_METHOD", "GET"}}), "request head has no SCRIPT_FILENAME"},
      {payload({{"SCRIPT_FILENAME", "/x"}, {"wsgid.request_start", "12x"}}), "wsgid.request_start is not a number: '12x'"},
      {payload({{"SCRIPT_FILENAME", "/x"}, {"wsgid.request_start", ""}}), "wsgid.request_start is not a number: ''"},
      {std::string("\x00\x05", 2), "request head: truncated pair header at offset 0"},
  };
  for (const Case& c : cases) {
    RequestInfo info;
    Status s = scan_request_head(c.payload, &info);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.message() == c.error);
  }
}

TEST_CASE("https_on and hidden_key") {
  for (const char* on : {"on", "ON", "1", "yes", "True"}) CHECK(https_on(on));
  for (const char* off : {"", "off", "0", "no", "onn"}) CHECK_FALSE(https_on(off));
  CHECK(hidden_key("wsgid.request_start"));
  CHECK(hidden_key("wsgid."));
  CHECK_FALSE(hidden_key("wsgi.input"));
  CHECK_FALSE(hidden_key("mod_wsgi.request_id"));
}

namespace {
// The environ as a sorted "key=value" text, for comparing two dicts.
std::string dump(PyObject* env) {
  REQUIRE(env != nullptr);
  PyObject* items = PyDict_Items(env);
  REQUIRE(PyList_Sort(items) == 0);
  PyObject* text = PyObject_Repr(items);
  std::string out = PyUnicode_AsUTF8(text);
  Py_DECREF(text);
  Py_DECREF(items);
  return out;
}
}  // namespace

TEST_CASE("build_environ: keys remembered by position give the environ of fresh strings") {
  if (!Py_IsInitialized()) Py_InitializeEx(0);
  PyObject* tmpl = PyDict_New();
  PyDict_SetItemString(tmpl, "wsgi.version", Py_None);
  EnvironKeys keys;
  const proto::KeyValues a = {{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/x"}, {"HTTP_HOST", "h"},
                              {"wsgid.request_start", "1"}, {"HTTP_ACCEPT", "*/*"}};
  const proto::KeyValues b = {{"HTTP_ACCEPT", "text/html"}, {"REQUEST_METHOD", "POST"},
                              {"HTTP_X_NEW", "1"}, {"PATH_INFO", "/y"}};
  const proto::KeyValues many = [] {
    proto::KeyValues kv;
    for (int i = 0; i < 300; ++i) kv.push_back({"HTTP_X_" + std::to_string(i), std::to_string(i)});
    return kv;
  }();
  // The same order again, another order, new keys, more keys than are kept.
  for (const proto::KeyValues* kv : {&a, &a, &b, &a, &many, &many, &b, &a}) {
    const std::string p = payload(*kv);
    PyObject* fresh = build_environ(tmpl, p, false);
    PyObject* kept = build_environ(tmpl, p, false, &keys);
    CHECK(dump(kept) == dump(fresh));
    CHECK(PyDict_GetItemString(kept, "wsgid.request_start") == nullptr);
    Py_DECREF(fresh);
    Py_DECREF(kept);
  }
  CHECK(keys.size() == EnvironKeys::kMaxKeys);
  // A kept key's reference count does not grow with use.
  PyObject* k = keys.get("REQUEST_METHOD", 0);
  const Py_ssize_t refs = Py_REFCNT(k);
  Py_DECREF(k);
  for (int i = 0; i < 3; ++i) Py_DECREF(build_environ(tmpl, payload(a), false, &keys));
  k = keys.get("REQUEST_METHOD", 0);
  CHECK(Py_REFCNT(k) == refs);
  Py_DECREF(k);
  Py_DECREF(tmpl);
}
