// libFuzzer target for what the master's children and its control socket read
// from outside: a control request line (parse_control_request,
// supervisor/master/control_server.h), the worker settings message
// (model::worker_settings_from_text) and the front end settings message
// (model::frontend_settings_from_json), protocol/PROTOCOL.md 7.3 and 7.4.
//
// The same input goes to all three. Invariants, each an abort when broken:
//   - a control request that parses names a command of the table, and one that
//     does not has a non-empty reason;
//   - worker settings that decode encode (worker_settings_to_json, plus the
//     index and generation a process group adds) to JSON that decodes to equal
//     settings; a refusal has a non-empty reason;
//   - front end settings decode or give a non-empty reason, never throw.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/frontend_settings.h"
#include "model/worker_settings.h"
#include "supervisor/master/control_commands.h"
#include "supervisor/master/control_server.h"

namespace {

#define FUZZ_CHECK(cond)                                                           \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "control_fuzz: invariant broken: %s (line %d)\n", #cond, \
                   __LINE__);                                                      \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

void control_request(std::string_view text) {
  wsgid::Result<wsgid::master::ControlRequest> r = wsgid::master::parse_control_request(text);
  if (r.is_ok())
    FUZZ_CHECK(wsgid::master::find_control_command(r->command) != nullptr);
  else
    FUZZ_CHECK(!r.status().message().empty());
}

void worker_settings(std::string_view text) {
  wsgid::Result<wsgid::model::WorkerSettings> w = wsgid::model::worker_settings_from_text(text);
  if (!w.is_ok()) {
    FUZZ_CHECK(!w.status().message().empty());
    return;
  }
  nlohmann::json j = wsgid::model::worker_settings_to_json(*w);
  j["index"] = w->index;  // added per process by the process group, as it spawns one
  j["generation"] = w->generation;
  std::string again = j.dump();
  wsgid::Result<wsgid::model::WorkerSettings> back = wsgid::model::worker_settings_from_text(again);
  FUZZ_CHECK(back.is_ok());
  FUZZ_CHECK(*back == *w);
}

void frontend_settings(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  wsgid::Result<wsgid::model::FrontendSettings> f = wsgid::model::frontend_settings_from_json(j);
  if (!f.is_ok()) FUZZ_CHECK(!f.status().message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  control_request(text);
  worker_settings(text);
  frontend_settings(text);
  return 0;
}
