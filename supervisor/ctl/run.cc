// One wsgictl command against the daemon; see run.h.
#include "supervisor/ctl/run.h"

#include <signal.h>

#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "supervisor/ctl/client.h"
#include "supervisor/ctl/format.h"

namespace wsgid::ctl {

using nlohmann::json;

namespace {

// How long to wait for a reply (status waits 200 ms for the workers; a reload
// parses the config and opens sockets).
constexpr int kReplyTimeoutMs = 60000;

volatile sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

void print(const std::string& out, const std::string& err) {
  if (!out.empty()) std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!err.empty()) std::fwrite(err.data(), 1, err.size(), stderr);
}

// wsgictl's own failures (no reply to show): the sentence on stderr and, with
// --json, the same object a daemon error has on stdout.
void fail(const std::string& message, const char* code, bool json_mode,
          const json& extra = json::object()) {
  std::string out;
  if (json_mode) {
    json j = {{"ok", false}, {"code", code}, {"error", message}};
    j.update(extra);
    out = j.dump(2) + "\n";
  }
  print(out, "wsgictl: " + message + "\n");
}

// One request; the first reply line into *reply. Returns -1 on success, else
// the exit status (the reason already printed unless quiet).
// quiet: print nothing (completion). extra: keys for the --json error object.
int request(ControlClient& client, const Session& s, const json& req, json* reply, bool quiet,
            const json& extra = json::object()) {
  bool js = s.options.json;
  auto failed = [&](const std::string& m, const char* code, int status) {
    if (!quiet) fail(m, code, js, extra);
    return status;
  };
  int code = 0;
  if (Status st = client.connect(s.socket, &code); !st)
    return failed(st.message(), code == kExitUnreachable ? "unreachable" : "permission", code);
  if (Status st = client.send(req); !st) return failed(st.message(), "unreachable", kExitUnreachable);
  std::string line, error;
  switch (client.read_line(&line, kReplyTimeoutMs, nullptr, &error)) {
    case ControlClient::Read::kLine:
      break;
    case ControlClient::Read::kTimeout:
      return failed(fmt::format("no answer from wsgid at {} within {} s", s.socket,
                                kReplyTimeoutMs / 1000),
                    "failed", kExitFailed);
    case ControlClient::Read::kEof:
      return failed(fmt::format("wsgid at {} closed the connection without answering", s.socket),
                    "failed", kExitFailed);
    default:
      return failed(error, "failed", kExitFailed);
  }
  *reply = json::parse(line, nullptr, false);
  if (reply->is_discarded() || !reply->is_object())
    return failed(fmt::format("wsgid at {} sent a reply that is not a JSON object: {}", s.socket,
                              line.substr(0, 200)),
                  "failed", kExitFailed);
  return -1;
}

// The lines after a `tail -f` reply, until EOF or Ctrl-C.
int follow(ControlClient& client, bool json_mode) {
  struct sigaction sa {}, old_sa{};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  sigset_t wait_mask = old_mask;
  sigdelset(&wait_mask, SIGINT);
  g_interrupted = 0;
  int code = kExitOk;
  for (;;) {
    std::string line, error;
    auto r = client.read_line(&line, -1, &wait_mask, &error);
    if (r == ControlClient::Read::kInterrupted) {
      if (g_interrupted) break;
      continue;
    }
    if (r == ControlClient::Read::kEof) break;
    if (r != ControlClient::Read::kLine) {
      fail(error, "failed", json_mode);
      code = kExitFailed;
      break;
    }
    if (json_mode) {
      print(line + "\n", "");
      continue;
    }
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("line") && j["line"].is_string())
      print(j["line"].get<std::string>() + "\n", "");
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGINT, &old_sa, nullptr);
  return code;
}

}  // namespace

Session make_session(const Options& options) {
  Session s;
  s.options = options;
  auto p = control_socket_path(options, std::getenv("WSGICTL_SOCKET"));
  if (p) s.socket = *p;
  else s.socket_error = p.status();
  return s;
}

int execute(const Session& s, const Command& c) {
  bool json_mode = s.options.json;
  if (c.name.empty() || c.name == "quit" || c.name == "exit") return kExitOk;
  if (c.name == "help") {
    if (json_mode) {
      json j = {{"ok", true}};
      if (c.args.empty()) {
        json names = json::array();
        for (const auto& k : commands()) names.push_back(k.name);
        j["commands"] = names;
      } else {
        const CommandInfo* k = find_command(c.args[0]);
        j["command"] = k->name;
        j["synopsis"] = k->synopsis;
        j["summary"] = k->summary;
        j["help"] = k->help_text;
      }
      print(j.dump(2) + "\n", "");
    } else {
      print(help_text(c.args.empty() ? "" : c.args[0]), "");
    }
    return kExitOk;
  }
  if (c.name == "version" && !json_mode) print(fmt::format("wsgictl {}\n", kVersion), "");
  json extra = json::object();
  if (c.name == "version") extra["wsgictl"] = kVersion;
  if (!s.socket_error) {
    fail(s.socket_error.message(), "failed", json_mode, extra);
    return kExitFailed;
  }
  ControlClient client;
  json reply;
  if (int code = request(client, s, to_request(c), &reply, false, extra); code >= 0) return code;
  Rendered r = render_reply(c, reply, json_mode);
  if (c.name == "version" && !json_mode) {
    // "wsgictl X" is out already.
    size_t nl = r.out.find('\n');
    if (nl != std::string::npos && r.out.rfind("wsgictl ", 0) == 0) r.out.erase(0, nl + 1);
  }
  print(r.out, r.err);
  if (c.name == "tail" && c.follow && r.code == kExitOk && reply.value("follow", false))
    return follow(client, json_mode);
  return r.code;
}

std::vector<std::string> fetch_group_names(const Session& s) {
  std::vector<std::string> names;
  if (!s.socket_error) return names;
  ControlClient client;
  json reply;
  if (request(client, s, {{"command", "status"}, {"args", json::array()}}, &reply, true) >= 0)
    return names;
  if (reply.contains("groups") && reply["groups"].is_array())
    for (const auto& g : reply["groups"])
      if (g.contains("name") && g["name"].is_string()) names.push_back(g["name"].get<std::string>());
  if (reply.contains("embedded") && reply["embedded"].is_object() && reply["embedded"].contains("name") &&
      reply["embedded"]["name"].is_string())
    names.push_back(reply["embedded"]["name"].get<std::string>());
  return names;
}

}  // namespace wsgid::ctl
