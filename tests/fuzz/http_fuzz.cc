// libFuzzer target for the front end's HTTP request path: raw bytes go through a
// real Server (llhttp, the refusal checks, limits, routing, the environ written
// for the worker, error answers) over a loopback TCP connection. The group's
// socket does not exist, so every routed request ends in a 503 without a worker;
// static aliases point at a directory that does not exist. One Server for the
// whole run; each input is one client connection, sent then half-closed, and the
// loop runs until the server has closed it.
//
// An input whose first byte is 0x01 goes, without that byte, to a second
// listener (127.0.0.3) where RemoteIPProxyProtocol is on: the bytes must begin
// with a PROXY v1 or v2 header (proxy_protocol.h) before any HTTP. Every
// other input goes to 127.0.0.1, where mod_remoteip's RemoteIPHeader and
// mod_wsgi's WSGITrustedProxyHeaders read the forwarding headers. An input
// whose first byte is 0x02 goes, without it, to a `Listen ... uwsgi` socket
// (127.0.0.4): a uwsgi packet (uwsgi_packet.h) whose vars become the request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/log.h"
#include "supervisor/frontend/server.h"

using namespace wsgid;
using namespace wsgid::frontend;

namespace {

struct World {
  uv_loop_t loop;
  Server* server = nullptr;
  int port = 0, proxy_port = 0, uwsgi_port = 0;

  World() {
    std::signal(SIGPIPE, SIG_IGN);
    log::set_level(log::Level::kEmerg);
    uv_loop_init(&loop);
    server = new Server(&loop);
    Settings s;
    model::ListenAddr l;
    l.host = "127.0.0.1";
    model::ListenAddr lp;
    lp.host = "127.0.0.3";
    model::ListenAddr lu;
    lu.host = "127.0.0.4";
    lu.protocol = model::ListenProtocol::kUwsgi;
    s.config.listen = {l, lp, lu};
    s.config.limit_request_line = 1000;
    s.config.limit_request_field_size = 1000;
    s.config.limit_request_fields = 20;
    s.config.limit_request_body = 10000;
    GroupEndpoint g;
    g.name = "g";
    g.socket = "/nonexistent/wsgid-fuzz.sock";
    s.groups = {g};
    s.config.server.settings.process_group = "g";
    s.config.server.remoteip_header = "X-Forwarded-For";
    s.config.server.remoteip_proxies_header = "X-Forwarded-By";
    s.config.server.remoteip_proxies =
        std::vector<model::RemoteIPProxySpec>{{"127.0.0.1", true}, {"10.0.0.0/8", false}};
    s.config.server.settings.trusted_proxy_headers = std::vector<std::string>{
        "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Proto", "X-Forwarded-SSL",
        "X-Forwarded-Host", "X-Forwarded-Server", "X-Forwarded-Port", "X-Script-Name"};
    s.config.server.settings.trusted_proxies = std::vector<std::string>{"127.0.0.0/8"};
    model::Mount root;
    root.url = "/";
    root.script = "/nonexistent/app.wsgi";
    model::Mount app = root;
    app.url = "/app";
    model::Mount rx = root;
    rx.is_match = true;
    rx.url = "^/rx/([a-z]+)";
    rx.script = "/nonexistent/$1.wsgi";
    s.config.server.mounts = {root, app, rx};
    model::Block loc;
    loc.path = "/app/admin";
    loc.settings.process_group = "nosuch";
    // WSGIChunkedRequest On and a smaller LimitRequestBody under /app: chunked
    // bodies reach the chunked decoder (issue 12), elsewhere they get 411.
    model::Block bodies;
    bodies.path = "/app";
    bodies.settings.chunked_request = true;
    bodies.settings.limit_request_body = 4096;
    s.config.server.locations = {bodies, loc};
    model::StaticAlias st;
    st.url = "/static/";
    st.path = "/nonexistent/static/";
    s.config.server.aliases = {st};
    model::VirtualHost vh;
    model::ListenAddr any;
    vh.addrs = {any};
    vh.server_name = "fuzz.example";
    vh.server_aliases = {"*.fuzz.example"};
    vh.mounts = {root};
    model::VirtualHost pvh;
    model::ListenAddr p3;
    p3.host = "127.0.0.3";
    pvh.addrs = {p3};
    pvh.remoteip_proxy_protocol = true;
    pvh.mounts = {root};
    s.config.vhosts = {vh, pvh};
    server->apply(s);
    std::vector<int> ports;
    if (!server->bind_listeners(&ports).is_ok()) std::abort();
    port = ports[0];
    proxy_port = ports[1];
    uwsgi_port = ports[2];
  }
};

World& world() {
  static World* w = new World;
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32 * 1024) return 0;
  World& w = world();
  bool proxy_mode = size > 0 && data[0] == 0x01;
  bool uwsgi_mode = size > 0 && data[0] == 0x02;
  if (proxy_mode || uwsgi_mode) {
    ++data;
    --size;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(proxy_mode ? w.proxy_port : uwsgi_mode ? w.uwsgi_port : w.port));
  a.sin_addr.s_addr = htonl(proxy_mode ? 0x7f000003 : uwsgi_mode ? 0x7f000004 : INADDR_LOOPBACK);
  int fd = -1;
  // Hundreds of thousands of connections a minute: a connect can fail for want
  // of a free local port (EADDRNOTAVAIL) while the kernel recycles them. That is
  // the harness's limit, not the front end's: let the loop run and try again.
  for (int attempt = 0; fd < 0; ++attempt) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
    int err = errno;
    close(fd);
    fd = -1;
    if (attempt >= 1000) {
      std::fprintf(stderr, "http_fuzz: connect(port %d): %s\n", ntohs(a.sin_port),
                   std::strerror(err));
      std::abort();
    }
    uv_run(&w.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  // Close with an RST, so that no TIME_WAIT holds the local port afterwards.
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  size_t off = 0;
  while (off < size) {
    ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    uv_run(&w.loop, UV_RUN_NOWAIT);
  }
  shutdown(fd, SHUT_WR);
  char buf[65536];
  for (int i = 0; i < 100000; ++i) {
    uv_run(&w.loop, UV_RUN_NOWAIT);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
    }
  }
  close(fd);
  for (int i = 0; i < 20 && w.server->connection_count() > 0; ++i) uv_run(&w.loop, UV_RUN_NOWAIT);
  return 0;
}
