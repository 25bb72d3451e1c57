#include "worker/wsgi_app.h"

#include <fmt/core.h>

#include "common/log.h"
#include "worker/interpreters.h"
#include "worker/wsgi_runtime.h"

namespace wsgid::worker {

void run_request(RequestIo* io, std::string_view head, const RequestInfo& info) {
  Result<Interp*> in = Interpreters::find(std::string(info.application_group));
  if (!in) {
    log::error("request {}: {}", io->request_id(), in.status().message());
    io->fail(proto::ErrorCode::kAppError, "cannot create the application group's interpreter");
    return;
  }
  Interp* interp = *in;
  InterpScope scope(interp);
  PyObject* environ = build_environ(interp->environ_template, head, info.https, &interp->environ_keys);
  PyObject* ctx = environ ? make_context(io) : nullptr;
  PyObject* result = nullptr;
  if (ctx) {
    PyObject* script = PyUnicode_DecodeFSDefaultAndSize(info.script.data(), static_cast<Py_ssize_t>(info.script.size()));
    PyObject* callable = PyUnicode_DecodeLatin1(info.callable.data(), static_cast<Py_ssize_t>(info.callable.size()), nullptr);
    if (script && callable)
      result = PyObject_CallFunction(interp->handle, "OOkOOi", environ, ctx,
                                     static_cast<unsigned long>(io->request_id()), script, callable,
                                     info.reload_script ? 1 : 0);
    Py_XDECREF(script);
    Py_XDECREF(callable);
  }
  if (!result) {
    std::vector<std::string> lines = format_exception();
    log::error("request {}: the worker's runtime failed for '{}'", io->request_id(), info.script);
    for (const std::string& l : lines) log::error("request {}: {}", io->request_id(), l);
  }
  Py_XDECREF(result);
  if (ctx) {
    disarm_context(ctx);
    Py_DECREF(ctx);
  }
  Py_XDECREF(environ);
  if (!io->completed()) {
    Py_BEGIN_ALLOW_THREADS
    io->fail(proto::ErrorCode::kAppError, "Internal Server Error");
    Py_END_ALLOW_THREADS
  }
}

Status preload_script(const Preload& p) {
  Result<Interp*> in = Interpreters::find(p.application_group);
  if (!in) return in.status();
  InterpScope scope(*in);
  PyObject* load = PyDict_GetItemString((*in)->runtime, "load_script");
  PyObject* r = load ? PyObject_CallFunction(load, "s", p.script.c_str()) : nullptr;
  if (r) {
    Py_DECREF(r);
    return Status::ok();
  }
  std::vector<std::string> lines = format_exception();
  log::error("Failed to exec Python script file '{}'.", p.script);
  for (const std::string& l : lines) log::error("{}", l);
  return Status::error(fmt::format("preload of '{}' in application group '{}' failed: {}", p.script,
                                   p.application_group, lines.empty() ? "" : lines.back()));
}

}  // namespace wsgid::worker
