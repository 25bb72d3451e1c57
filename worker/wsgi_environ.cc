#include "worker/wsgi_environ.h"

#include <fmt/core.h>

#include <charconv>
#include <strings.h>

#include "protocol/messages.h"

namespace wsgid::worker {

bool hidden_key(std::string_view key) { return key.substr(0, 6) == "wsgid."; }

bool https_on(std::string_view v) {
  for (const char* word : {"on", "1", "yes", "true"}) {
    std::string_view w(word);
    if (v.size() == w.size() && strncasecmp(v.data(), word, v.size()) == 0) return true;
  }
  return false;
}

Status scan_request_head(std::string_view payload, RequestInfo* info) {
  std::string_view start, content_length;
  bool has_start = false, has_length = false, transfer_encoding = false;
  bool reloading = false, embedded = false;
  using namespace std::string_view_literals;
  Status s = proto::for_each_pair(payload, [&](std::string_view k, std::string_view v) {
    if (k.size() < 5 || k.size() > 26) return;  // the lengths of the keys below
    if (k == "HTTPS"sv) info->https = https_on(v);
    else if (k == "REQUEST_URI"sv) info->uri = v;
    else if (k == "REQUEST_METHOD"sv) info->method = v;
    else if (k == "SCRIPT_FILENAME"sv) info->script = v;
    else if (k == "wsgid.request_start"sv) { start = v; has_start = true; }
    else if (k == "mod_wsgi.callable_object"sv) { if (!v.empty()) info->callable = v; }
    else if (k == "mod_wsgi.application_group"sv) info->application_group = v;
    else if (k == "mod_wsgi.script_reloading"sv) reloading = v == "1"sv;
    else if (k == "mod_wsgi.process_group"sv) embedded = v.empty();
    else if (k == "CONTENT_LENGTH"sv) { content_length = v; has_length = true; }
    else if (k == "HTTP_TRANSFER_ENCODING"sv) transfer_encoding = true;
  });
  if (!s) return s;
  if (info->script.empty()) return Status::error("request head has no SCRIPT_FILENAME");
  info->reload_script = reloading && embedded;
  if (has_length) {
    auto r = std::from_chars(content_length.data(), content_length.data() + content_length.size(),
                             info->body_length);
    if (r.ec != std::errc() || r.ptr != content_length.data() + content_length.size() ||
        content_length.empty() || content_length[0] == '-')
      info->body_length = -1;
  } else {
    info->body_length = transfer_encoding ? -1 : 0;
  }
  if (has_start) {
    auto r = std::from_chars(start.data(), start.data() + start.size(), info->request_start_us);
    if (r.ec != std::errc() || r.ptr != start.data() + start.size())
      return Status::error(fmt::format("wsgid.request_start is not a number: '{}'", start));
  }
  return Status::ok();
}

PyObject* EnvironKeys::get(std::string_view key, size_t position) {
  if (position < last_.size() && last_[position] && last_[position]->first == key) {
    Py_INCREF(last_[position]->second);
    return last_[position]->second;
  }
  auto it = map_.find(key);
  if (it == map_.end()) {
    PyObject* s = PyUnicode_DecodeLatin1(key.data(), static_cast<Py_ssize_t>(key.size()), nullptr);
    if (!s || map_.size() >= kMaxKeys) return s;
    it = map_.emplace(std::string(key), s).first;  // the map's reference
  }
  if (position < kMaxKeys) {
    if (position >= last_.size()) last_.resize(position + 1, nullptr);
    last_[position] = &*it;
  }
  Py_INCREF(it->second);
  return it->second;
}

PyObject* build_environ(PyObject* tmpl, std::string_view payload, bool https, EnvironKeys* keys) {
  PyObject* env = PyDict_Copy(tmpl);
  if (!env) return nullptr;
  bool ok = true;
  size_t position = 0;
  Status s = proto::for_each_pair(payload, [&](std::string_view k, std::string_view v) {
    if (!ok || hidden_key(k)) return;
    PyObject* key = keys ? keys->get(k, position++)
                         : PyUnicode_DecodeLatin1(k.data(), static_cast<Py_ssize_t>(k.size()), nullptr);
    PyObject* value = PyUnicode_DecodeLatin1(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr);
    if (!key || !value || PyDict_SetItem(env, key, value) != 0) ok = false;
    Py_XDECREF(key);
    Py_XDECREF(value);
  });
  if (ok && s) {
    PyObject* scheme = PyUnicode_FromString(https ? "https" : "http");
    ok = scheme && PyDict_SetItemString(env, "wsgi.url_scheme", scheme) == 0;
    Py_XDECREF(scheme);
  }
  if (!ok || !s) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, s.message().c_str());
    Py_DECREF(env);
    return nullptr;
  }
  return env;
}

}  // namespace wsgid::worker
