#include "supervisor/frontend/haproxy_agent.h"

#include <algorithm>

#include "common/log.h"

namespace wsgid::frontend {

std::string agent_reply(const AgentView& view) {
  if (view.stopping) return "drain\n";
  size_t capacity = 0, load = 0;
  bool any_up = view.has_embedded;
  for (const AgentGroup& g : view.groups) {
    if (!g.serving) continue;
    any_up = true;
    capacity += std::max<size_t>(1, g.capacity);
    load += std::min(g.load, std::max<size_t>(1, g.capacity));
  }
  if (!any_up) return "maint\n";
  size_t percent = 100;
  if (capacity > 0) percent = (100 * (capacity - load) + capacity / 2) / capacity;
  percent = std::clamp<size_t>(percent, 1, 100);
  return "up ready " + std::to_string(percent) + "%\n";
}

namespace {

struct AgentReply {
  uv_tcp_t tcp;
  uv_write_t write;
  std::string text;
};

void close_reply(AgentReply* r) {
  uv_close(reinterpret_cast<uv_handle_t*>(&r->tcp),
           [](uv_handle_t* h) { delete static_cast<AgentReply*>(h->data); });
}

}  // namespace

void serve_agent_connection(uv_stream_t* listener, const std::string& reply) {
  auto* r = new AgentReply;
  r->text = reply;
  uv_tcp_init(listener->loop, &r->tcp);
  r->tcp.data = r;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&r->tcp));
  if (rc != 0) {
    log::warn("frontend: haproxy-agent accept: {}", uv_strerror(rc));
    close_reply(r);
    return;
  }
  r->write.data = r;
  uv_buf_t b = uv_buf_init(r->text.data(), static_cast<unsigned>(r->text.size()));
  rc = uv_write(&r->write, reinterpret_cast<uv_stream_t*>(&r->tcp), &b, 1,
                [](uv_write_t* w, int) { close_reply(static_cast<AgentReply*>(w->data)); });
  if (rc != 0) close_reply(r);
}

}  // namespace wsgid::frontend
