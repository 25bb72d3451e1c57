// Server: the front end's state on one of its event loops (loops.h).
//
// Owns the Listen sockets (handed down by the master as fds 4.., or bound here in
// standalone mode), the current Router (replaced on each kSettings; connections
// keep the one they started with through a shared_ptr), one UpstreamPool per
// group (kept for the life of the process so a connection never outlives its
// pool), the TLS contexts (supervisor/tls/tls_part.h), the access log, the list of live
// HttpConns, the periodic sweep timer (timeouts, idle worker connections, the
// descriptor limit watch) and the cached Date header, and the
// observability state (issue 14): the counters (metrics.h), the master's last
// status report, and the pages drawn from them (server_pages.cc). Loop thread
// only; created and destroyed by frontend_main (or by a test fixture). Embedded
// mode and mod_wsgi's auth scripts are the Python part's (python_part.h), which
// the Server loads when the settings first need it.
//
// With several loops (WSGIFrontendLoops, loops.h) loop 0's Server is the one
// frontend_main drives: it alone holds the listeners, the Python part and the
// control channel, hands each accepted connection to the loop with the fewest,
// and passes on to the other loops' Servers what it is given (settings, log
// descriptors, the master's status report, the stop); its pages and state sum
// every loop's figures. Those Servers have connections, pools, counters and
// timers of their own.
//
// A graceful stop runs through three stages (docs/decisions.md 42):
//   serving   accepting_work(): new connections and requests are welcome
//   leaving   WSGIDrainDelay seconds: HAProxy's agent says "drain" (readiness
//             fails), yet every connection is still accepted and served; each
//             response carries "Connection: close", so balancers reconnect
//   draining  the listeners close; in-flight requests finish (drain() below)
// With no delay a stop goes straight to draining, as before the directive.
// Each Listen socket speaks its ListenAddr protocol: HTTP (HttpConn), the uwsgi
// packet (HttpConn with uwsgi_packet.h) or HAProxy's agent-check
// (haproxy_agent.h).
#pragma once

#include <uv.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "supervisor/frontend/access_log.h"
#include "supervisor/frontend/descriptor_watch.h"
#include "supervisor/frontend/router.h"
#include "supervisor/frontend/settings.h"
#include "supervisor/frontend/python_part.h"
#include "supervisor/frontend/metrics.h"
#include "supervisor/frontend/snapshot.h"
#include "model/status_report.h"
#include "supervisor/frontend/upstream.h"
#include "supervisor/tls/tls_part.h"

namespace wsgid::frontend {

class HttpConn;
class Loops;

class Server {
 public:
  static constexpr uint64_t kSweepMs = 250;

  explicit Server(uv_loop_t* loop);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // New settings: router, pools, access logs (reopened). Never fails: bad parts
  // were refused by the decoder. Loop 0 passes them on to the other loops.
  void apply(const Settings& settings);
  // Starts the other loops (loops.h): after the listeners and the first
  // settings, as the final user. count <= 1: none. Errors: the thread's.
  Status start_loops(int count);
  // A Server of loop `index` > 0, made by Loops on its thread.
  void join_loops(Loops* loops, int index);
  // apply() with loop 0's TLS contexts (one session ticket key for all loops).
  void apply_shared(const Settings& settings, std::shared_ptr<const tls::Contexts> tls);
  // The loops, or null with one loop; which this Server's is (0: the first).
  Loops* loops() const { return loops_; }
  int loop_index() const { return index_; }
  // The access log's descriptors from the master (AccessLog::take_passed), a
  // reopen, a flush: on every loop.
  Status take_log_fds(const std::string& text, std::vector<int> fds);
  void reopen_logs();
  void flush_logs();
  // Adopts already-listening sockets fds[i] for settings.listen[i] (the master's
  // hand-down) and starts accepting.
  Status adopt_listeners(const std::vector<int>& fds);
  // Standalone / tests: binds and listens on every settings.listen address.
  // *ports receives the bound ports (useful with port 0).
  Status bind_listeners(std::vector<int>* ports);
  // A graceful stop. Leaving first, for delay_s seconds: still serving, not
  // ready, "Connection: close" on every response. Then draining: the listeners
  // stop (below), in-flight requests finish, then done is called; past
  // timeout_s everything is closed and done is called.
  //   Without a delay, idle keep-alive connections close at once; after one,
  // they stay for one last request (a client may already be sending it,
  // answered with "Connection: close") or until their keep-alive timeout.
  //   A listener nobody else keeps refuses new handshakes first and keeps
  // accepting for kHandshakeSettleUs (common/listener_close.h), then accepts
  // what is queued and closes: no connection that completed its handshake is
  // reset. Under a master, the master is asked first (set_master_closer) to
  // close its copies, attaching the filter itself when we may not. handover =
  // true (a new front end took the listeners) or a socket systemd holds too:
  // the queue survives our close, which is immediate, and idle keep-alive
  // connections stay as after a delay.
  //   A call while leaving with delay_s <= 0 ends the delay now (drains at
  // once); any other call while leaving or draining does nothing.
  void stop(double delay_s, double timeout_s, std::function<void()> done, bool handover = false);
  // False from the first moment of a graceful stop: what readiness checks and
  // HAProxy's agent report.
  bool accepting_work() const { return stage_ == Stage::kServing; }
  // Under a master: ask(answer) sends LISTENERS_CLOSING; the master's
  // LISTENERS_CLOSED calls answer(refusing), refusing = it attached the filter
  // to every socket we hold alone (protocol/PROTOCOL.md). Unset: standalone.
  using MasterCloser = std::function<void(std::function<void(bool refusing)> answer)>;
  void set_master_closer(MasterCloser ask) { master_closer_ = std::move(ask); }
  // How long a drain waits for the master's LISTENERS_CLOSED.
  static constexpr uint64_t kMasterAnswerMs = 2000;
  // HAProxy's agent reply for the current state (haproxy_agent.h).
  std::string agent_reply();
  // Closes every handle (listeners, connections, timers); the loop can then end.
  void shutdown();

  uv_loop_t* loop() const { return loop_; }
  const std::shared_ptr<const Router>& router() const { return router_; }
  // The TLS contexts of the current settings (supervisor/tls/tls_part.h);
  // rebuilt by apply(); null until the settings first hold a TLS server.
  const std::shared_ptr<const tls::Contexts>& tls() const { return tls_; }
  // What listener (one of ours) speaks: kHttps for a TLS Listen (Listen ...
  // https, or 443), kUwsgi for nginx's uwsgi_pass packets, else kHttp.
  model::ListenProtocol listener_protocol(const uv_stream_t* listener) const;
  UpstreamPool* pool(const Router* router, int group_index);
  // Embedded mode (embedded.h). Until enable_embedded() (called once the process
  // runs as its final user), Python is never started; from then on apply()
  // starts it when the settings hold an embedded alias. embedded_pool() returns
  // the pool of the embedded threads, starting them on first use if needed, or
  // nullptr with *error set (start failure, WSGIRestrictEmbedded On).
  void enable_embedded();
  // Loads the Python module (python_part.h), not Python, when the settings need
  // it: called before the privilege drop, so that a module the final user cannot
  // read (a build under /root) still loads, as libpython did when it was linked.
  void preload_python();
  UpstreamPool* embedded_pool(std::string* error);
  // mod_wsgi's Python auth providers (auth_scripts.h): from enable_embedded() on,
  // Python starts when the settings name one of their scripts, also under
  // WSGIRestrictEmbedded On. nullptr while Python is not running (the scripts'
  // requests then get mod_wsgi's answer for a missing interpreter).
  ScriptRunner* auth_scripts();
  // Removes the embedded socket and its directory: call just before exiting.
  void cleanup_embedded() {
    if (python_) python_->cleanup();
  }
  AccessLog& access_log() { return access_log_; }
  const Settings& settings() const { return router_->settings(); }
  // "Date: Fri, 27 Nov 2026 13:51:19 GMT\r\n", recomputed once per second.
  std::string_view date_line();
  // Unique in the process (every loop draws from one counter).
  uint32_t next_request_id();
  const std::string& request_id_prefix() const { return id_prefix_; }
  // Observability (issue 14): the counters, the master's last status report
  // (model/status_report.h; kSettings {"status": ...}), and the pages.
  Metrics& metrics() { return metrics_; }
  void take_status(model::StatusReport report);
  // What the pages show, now (snapshot.h).
  Snapshot snapshot() const;
  struct PageAnswer {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string why;  // for the log, when status is not 200
  };
  // The answer of one of the front end's pages (router.h Route::page) for a
  // request with this query string, to virtual host vh.
  PageAnswer page(std::string_view page, std::string_view query, const model::VirtualHost* vh) const;
  bool draining() const { return stage_ == Stage::kDraining; }
  // Leaving or draining: a response ends its connection ("Connection: close").
  bool closing_connections() const { return stage_ != Stage::kServing; }

  void add(HttpConn* c);
  void remove(HttpConn* c);
  // A connection another loop accepted (Loops::pick), now this loop's.
  void adopt_connection(int fd, model::ListenProtocol protocol);
  void request_started() { ++busy_; }
  void request_finished() {
    --busy_;
    ++served_;
    maybe_drained();
  }
  // kState JSON (protocol/PROTOCOL.md 7.2).
  nlohmann::json state_json();
  size_t connection_count() const { return conn_count_; }

 private:
  enum class Stage { kServing, kLeaving, kDraining };
  void on_connection(uv_stream_t* listener, int status);
  void sweep();
  // UpstreamPool's out-of-descriptors hook: closes up to kFreeAtOnce client
  // connections with no request in progress (HttpConn::reusable()), the
  // oldest first -> how many.
  size_t close_oldest_idle();
  static constexpr size_t kFreeAtOnce = 8;
  void drain(double timeout_s, std::function<void()> done, bool close_idle, bool handover);
  // Accepts what is queued on listener i and closes it -> connections accepted.
  size_t close_listener(size_t i);
  // The drain's listeners are ours alone now (the master's answer, its
  // timeout, or no master): if a filter refuses new handshakes, let the ones
  // under way complete (kHandshakeSettleUs); then close them all.
  void listeners_alone(bool refusing);
  void close_remaining_listeners();
  void maybe_drained();
  Status listen_handle(uv_tcp_t* h, const std::string& what, model::ListenProtocol protocol,
                       bool held_elsewhere);
  Status start_embedded();
  void start_auth_python();

  // apply() here only; shared: loop 0's TLS contexts (null: build them).
  void apply_here(const Settings& settings, const std::shared_ptr<const tls::Contexts>* shared);
  // This loop's part of snapshot() / state_json(): pointers into this loop's
  // counters, read while it runs nothing else.
  Snapshot local_snapshot() const;
  nlohmann::json local_state();
  // Loop 0: the other loops enter the leaving stage / drain.
  void others_leave();
  void others_drain(double timeout_s, bool close_idle, bool handover);
  void loop_drained();
  // Several loops: each group's pool shares the group's capacity (GroupGate).
  void share_pools();
  // For a new loop (Loops::start): a copy of the master's log descriptors.
  std::function<void(Server&)> log_setup();

  uv_loop_t* loop_;
  std::unique_ptr<Loops> own_loops_;  // loop 0 with several loops
  Loops* loops_ = nullptr;
  int index_ = 0;
  int others_draining_ = 0;  // loop 0: loops whose drain has not finished
  std::shared_ptr<const Router> router_;
  std::vector<UpstreamPool*> current_pools_;  // by group index of router_
  std::map<std::string, std::unique_ptr<UpstreamPool>> pools_;  // by name + socket
  std::vector<std::unique_ptr<UpstreamPool>> retired_pools_;
  // Embedded mode and the auth scripts (python_part.h): loaded on first need.
  PythonPart* python_ = nullptr;
  Status load_python();
  bool python_started() const { return python_ && python_->python_started(); }
  bool embedded_started() const { return python_ && python_->started(); }
  std::unique_ptr<UpstreamPool> embedded_pool_;
  bool embedded_enabled_ = false;
  AccessLog access_log_;
  DescriptorWatch descriptors_;
  struct Listener {
    uv_tcp_t* handle;
    model::ListenProtocol protocol;
    bool held_elsewhere;  // systemd holds the socket too (socket activation)
  };
  std::vector<Listener> listeners_;
  std::shared_ptr<const tls::Contexts> tls_;
  uv_timer_t sweep_timer_;
  uv_check_t flush_check_;
  uv_timer_t drain_timer_;
  uv_timer_t answer_timer_;  // kMasterAnswerMs for LISTENERS_CLOSED
  size_t late_accepted_ = 0;  // accepted by close_listener() in this drain
  MasterCloser master_closer_;
  bool own_filter_ = false;     // this drain attached the filter itself
  bool asking_master_ = false;  // LISTENERS_CLOSING sent, no answer yet
  std::string filter_error_;    // why our own attach failed
  HttpConn* conns_ = nullptr;
  size_t conn_count_ = 0;
  int64_t busy_ = 0;
  uint64_t served_ = 0;
  Stage stage_ = Stage::kServing;
  uv_timer_t leave_timer_;
  std::function<void()> after_leaving_;
  bool shut_ = false;
  std::function<void()> drained_;
  Metrics metrics_;
  model::StatusReport report_;
  bool have_report_ = false;
  double started_unix_ = 0;
  std::string id_prefix_;
  time_t date_time_ = 0;
  char date_buf_[64] = {};
  size_t date_len_ = 0;
};

}  // namespace wsgid::frontend
