// The front end's settings message, both ends; see frontend_settings.h.
#include "model/frontend_settings.h"

#include <charconv>
#include <cstdlib>

#include "model/embedded.h"

namespace wsgid::model {

using nlohmann::json;

namespace {

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

// The handlers part of a scope (issue 11, part 3).
json handlers_json(const HandlerSettings& h) {
  return {{"set_handler", opt(h.set_handler)},
          {"wsgi_extensions", h.wsgi_extensions},
          {"exec_cgi", opt(h.exec_cgi)},
          {"directory_index", h.directory_index ? json(*h.directory_index) : json(nullptr)},
          {"directory_slash", opt(h.directory_slash)},
          {"file_etag", h.file_etag ? json(*h.file_etag) : json(nullptr)},
          {"file_etag_add", h.file_etag_add},
          {"file_etag_remove", h.file_etag_remove},
          {"max_ranges", h.max_ranges ? json(*h.max_ranges) : json(nullptr)}};
}

json scope_json(const ScopeSettings& s) {
  return {{"handlers", handlers_json(s.handlers)},
          {"process_group", opt(s.process_group)},
          {"application_group", opt(s.application_group)},
          {"callable_object", opt(s.callable_object)},
          {"pass_authorization", opt(s.pass_authorization)},
          {"script_reloading", opt(s.script_reloading)},
          {"restrict_process", s.restrict_process ? json(*s.restrict_process) : json(nullptr)},
          {"chunked_request", opt(s.chunked_request)},
          {"limit_request_body", opt(s.limit_request_body)},
          {"require_ssl", opt(s.require_ssl)},
          {"trusted_proxy_headers",
           s.trusted_proxy_headers ? json(*s.trusted_proxy_headers) : json(nullptr)},
          {"trusted_proxies", s.trusted_proxies ? json(*s.trusted_proxies) : json(nullptr)}};
}

// mod_remoteip's settings of a server or vhost (issue 13 point 5).
json remoteip_json(const VirtualHost& v) {
  json proxies = nullptr;
  if (v.remoteip_proxies) {
    proxies = json::array();
    for (const auto& p : *v.remoteip_proxies)
      proxies.push_back({{"address", p.address}, {"internal", p.internal}});
  }
  return {{"header", opt(v.remoteip_header)},
          {"proxies_header", opt(v.remoteip_proxies_header)},
          {"proxies", proxies},
          {"proxy_protocol", opt(v.remoteip_proxy_protocol)}};
}

// Redirect*, Rewrite*, Header, RequestHeader as written (the rewrite part).
json rewrite_json(const std::vector<RewriteDirective>& list) {
  json a = json::array();
  for (const auto& r : list) a.push_back({{"name", r.name}, {"args", r.args}});
  return a;
}

// Access control of a block (issue 11): its lines as written, for the front end
// to rebuild with authz::build_section(), and its password and group files.
json access_json(const Block& b) {
  if (b.access.empty()) return nullptr;
  json lines = json::array();
  for (const auto& l : b.access.lines) {
    json line = json::array({l.name});
    for (const auto& a : l.args) line.push_back(a);
    lines.push_back(line);
  }
  auto script = [](const std::optional<AuthScript>& s) -> json {
    if (!s) return nullptr;
    return {{"path", s->path}, {"application_group", opt(s->application_group)}};
  };
  return {{"lines", lines}, {"user_file", opt(b.access.user_file)},
          {"group_file", opt(b.access.group_file)},
          {"basic_providers",
           b.access.basic_providers ? json(*b.access.basic_providers) : json(nullptr)},
          {"auth_user_script", script(b.access.auth_user_script)},
          {"auth_group_script", script(b.access.auth_group_script)},
          {"access_script", script(b.access.access_script)},
          {"at", b.loc.file + ":" + std::to_string(b.loc.line)}};
}

json blocks_json(const std::vector<Block>& blocks) {
  json a = json::array();
  for (const auto& b : blocks)
    a.push_back({{"path", b.path}, {"is_regex", b.is_regex}, {"is_files", b.is_files},
                 {"settings", scope_json(b.settings)}, {"rewrite", rewrite_json(b.rewrite)},
                 {"access", access_json(b)}});
  return a;
}

json tls_json(const TlsSettings& t) {
  if (!t.on()) return nullptr;
  json cmds = json::array();
  for (const auto& [n, v] : t.conf_cmds) cmds.push_back({n, v});
  auto oint = [](const std::optional<int>& v) { return v ? json(*v) : json(nullptr); };
  return {{"verify_client", opt(t.verify_client)},
          {"verify_depth", oint(t.verify_depth)},
          {"protocol", opt(t.protocol)},
          {"cipher_suite", opt(t.cipher_suite)},
          {"cipher_suite_tls13", opt(t.cipher_suite_tls13)},
          {"honor_cipher_order", opt(t.honor_cipher_order)},
          {"session_tickets", opt(t.session_tickets)},
          {"session_cache_timeout", oint(t.session_cache_timeout)},
          {"conf_cmds", cmds},
          {"std_env_vars", opt(t.std_env_vars)},
          {"export_cert_data", opt(t.export_cert_data)},
          {"certificate_file", opt(t.certificate_file)}};
}

json vhost_json(const VirtualHost& v) {
  json addrs = json::array();
  for (const auto& a : v.addrs) addrs.push_back(listen_text(a));
  json mounts = json::array();
  for (const auto& m : v.mounts)
    mounts.push_back({{"url", m.url}, {"script", m.script}, {"is_match", m.is_match},
                      {"process_group", opt(m.process_group)},
                      {"application_group", opt(m.application_group)},
                      {"callable_object", opt(m.callable_object)},
                      {"pass_authorization", opt(m.pass_authorization)}});
  json aliases = json::array();
  for (const auto& a : v.aliases)
    aliases.push_back({{"url", a.url}, {"path", a.path}, {"is_match", a.is_match}});
  json logs = json::array();
  for (const auto& l : v.custom_logs) logs.push_back({{"path", l.path}, {"format", l.format}});
  return {{"addrs", addrs}, {"server_name", v.server_name},
          {"server_aliases", v.server_aliases}, {"settings", scope_json(v.settings)},
          {"mounts", mounts}, {"locations", blocks_json(v.locations)},
          {"directories", blocks_json(v.directories)}, {"aliases", aliases},
          {"custom_logs", logs}, {"rewrite", rewrite_json(v.rewrite)},
          {"document_root", opt(v.document_root)}, {"trace_enable", opt(v.trace_enable)},
          {"remoteip", remoteip_json(v)},
          {"tls", tls_json(v.tls)}};
}

// Decoding: each reader returns a non-ok Status naming the key path
// ("settings: 'groups[0].name' is missing"); a missing key or null keeps the
// default unless the key is required.
class Reader {
 public:
  Reader(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  static Status bad(const std::string& path, std::string_view what) {
    return Status::error("settings: '" + path + "' " + std::string(what));
  }
  Status bad_key(const char* key, std::string_view what) const { return bad(path_ + key, what); }

  Status str(const char* key, std::string* out) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) return bad_key(key, "is missing");
    if (!it->is_string()) return bad_key(key, "must be a string");
    *out = it->get<std::string>();
    return Status::ok();
  }
  Status ostr(const char* key, std::optional<std::string>* out) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_string()) return bad_key(key, "must be a string or null");
    *out = it->get<std::string>();
    return Status::ok();
  }
  Status obool(const char* key, std::optional<bool>* out) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_boolean()) return bad_key(key, "must be a boolean or null");
    *out = it->get<bool>();
    return Status::ok();
  }
  Status boolean(const char* key, bool* out) const {
    std::optional<bool> b;
    if (Status s = obool(key, &b); !s) return s;
    if (b) *out = *b;
    return Status::ok();
  }
  template <class T>
  Status num(const char* key, T* out) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_number()) return bad_key(key, "must be a number");
    *out = it->get<T>();
    return Status::ok();
  }
  template <class T>
  Status onum(const char* key, std::optional<T>* out) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_number()) return bad_key(key, "must be a number or null");
    *out = it->get<T>();
    return Status::ok();
  }
  // An array (empty when missing or null).
  Status arr(const char* key, const json** out) const {
    static const json empty = json::array();
    auto it = obj_.find(key);
    *out = &empty;
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_array()) return bad_key(key, "must be an array");
    *out = &*it;
    return Status::ok();
  }
  // An object (nullptr when missing or null).
  Status object(const char* key, const json** out) const {
    auto it = obj_.find(key);
    *out = nullptr;
    if (it == obj_.end() || it->is_null()) return Status::ok();
    if (!it->is_object()) return bad_key(key, "must be an object");
    *out = &*it;
    return Status::ok();
  }

 private:
  const json& obj_;
  std::string path_;
};

#define TRY(expr)       \
  do {                  \
    Status s_ = (expr); \
    if (!s_) return s_; \
  } while (0)

std::string item(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "].";
}

// An array of strings (empty when missing or null).
Status strings_from(const Reader& r, const char* key, std::vector<std::string>* out) {
  const json* a = nullptr;
  TRY(r.arr(key, &a));
  for (const auto& e : *a) {
    if (!e.is_string()) return r.bad_key(key, "must be an array of strings");
    out->push_back(e.get<std::string>());
  }
  return Status::ok();
}

Status handlers_from(const json& j, const std::string& path, HandlerSettings* h) {
  if (j.is_null()) return Status::ok();
  if (!j.is_object()) return Reader::bad(path, "must be an object");
  Reader r(j, path + ".");
  TRY(r.ostr("set_handler", &h->set_handler));
  TRY(strings_from(r, "wsgi_extensions", &h->wsgi_extensions));
  TRY(r.obool("exec_cgi", &h->exec_cgi));
  auto di = j.find("directory_index");
  if (di != j.end() && !di->is_null()) {
    std::vector<std::string> names;
    TRY(strings_from(r, "directory_index", &names));
    h->directory_index = std::move(names);
  }
  TRY(r.ostr("directory_slash", &h->directory_slash));
  if (h->directory_slash && *h->directory_slash != "on" && *h->directory_slash != "off" &&
      *h->directory_slash != "notfound")
    return r.bad_key("directory_slash", "must be \"on\", \"off\", \"notfound\" or null");
  auto fe = j.find("file_etag");
  if (fe != j.end() && !fe->is_null()) {
    int bits = 0;
    TRY(r.num("file_etag", &bits));
    h->file_etag = bits;
  }
  TRY(r.num("file_etag_add", &h->file_etag_add));
  TRY(r.num("file_etag_remove", &h->file_etag_remove));
  auto mr = j.find("max_ranges");
  if (mr != j.end() && !mr->is_null()) {
    int n = 0;
    TRY(r.num("max_ranges", &n));
    if (n < kMaxRangesUnlimited)
      return r.bad_key("max_ranges", "must be a count, 0 (none), -1 (default), -2 (unlimited) or null");
    h->max_ranges = n;
  }
  return Status::ok();
}

Status scope_from(const json& j, const std::string& path, ScopeSettings* s) {
  if (j.is_null()) return Status::ok();
  if (!j.is_object()) return Reader::bad(path, "must be an object");
  Reader r(j, path + ".");
  TRY(r.ostr("process_group", &s->process_group));
  TRY(r.ostr("application_group", &s->application_group));
  TRY(r.ostr("callable_object", &s->callable_object));
  TRY(r.obool("pass_authorization", &s->pass_authorization));
  TRY(r.obool("script_reloading", &s->script_reloading));
  TRY(r.obool("chunked_request", &s->chunked_request));
  TRY(r.onum("limit_request_body", &s->limit_request_body));
  TRY(r.obool("require_ssl", &s->require_ssl));
  if (auto h = j.find("handlers"); h != j.end())
    TRY(handlers_from(*h, path + ".handlers", &s->handlers));
  for (auto [key, field] : {std::pair{"trusted_proxy_headers", &s->trusted_proxy_headers},
                            std::pair{"trusted_proxies", &s->trusted_proxies}}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    std::vector<std::string> list;
    TRY(strings_from(r, key, &list));
    *field = std::move(list);
  }
  auto rp = j.find("restrict_process");
  if (rp != j.end() && !rp->is_null()) {
    std::vector<std::string> names;
    if (!rp->is_array()) return r.bad_key("restrict_process", "must be an array of strings");
    for (const auto& n : *rp) {
      if (!n.is_string()) return r.bad_key("restrict_process", "must be an array of strings");
      names.push_back(n.get<std::string>());
    }
    s->restrict_process = std::move(names);
  }
  return Status::ok();
}

Status settings_of(const json& j, const std::string& p, ScopeSettings* s) {
  auto it = j.find("settings");
  if (it == j.end()) return Status::ok();
  return scope_from(*it, p + "settings", s);
}

Status rewrite_from(const Reader& r, const std::string& path,
                    std::vector<RewriteDirective>* out) {
  const json* a = nullptr;
  TRY(r.arr("rewrite", &a));
  for (size_t i = 0; i < a->size(); ++i) {
    Reader dr((*a)[i], item(path + "rewrite", i));
    RewriteDirective d;
    TRY(dr.str("name", &d.name));
    const json* args = nullptr;
    TRY(dr.arr("args", &args));
    for (const auto& x : *args) {
      if (!x.is_string()) return dr.bad_key("args", "must hold strings");
      d.args.push_back(x.get<std::string>());
    }
    out->push_back(std::move(d));
  }
  return Status::ok();
}

Status access_from(const json& j, const std::string& path, Block* b) {
  const char* shape = "must be {\"lines\": [[name, arg...], ...], \"user_file\": ..., ...}";
  if (!j.is_object()) return Reader::bad(path, shape);
  Reader r(j, path + ".");
  const json* lines = nullptr;
  TRY(r.arr("lines", &lines));
  for (const auto& line : *lines) {
    if (!line.is_array() || line.empty()) return Reader::bad(path + ".lines", shape);
    AccessLine l;
    for (size_t k = 0; k < line.size(); ++k) {
      if (!line[k].is_string()) return Reader::bad(path + ".lines", shape);
      (k == 0 ? l.name : l.args.emplace_back()) = line[k].get<std::string>();
    }
    b->access.lines.push_back(std::move(l));
  }
  TRY(r.ostr("user_file", &b->access.user_file));
  TRY(r.ostr("group_file", &b->access.group_file));
  if (auto p = j.find("basic_providers"); p != j.end() && !p->is_null()) {
    if (!p->is_array()) return r.bad_key("basic_providers", "must be an array of strings");
    std::vector<std::string> names;
    for (const auto& x : *p) {
      if (!x.is_string()) return r.bad_key("basic_providers", "must be an array of strings");
      names.push_back(x.get<std::string>());
    }
    b->access.basic_providers = std::move(names);
  }
  for (auto [key, slot] : {std::pair{"auth_user_script", &b->access.auth_user_script},
                           std::pair{"auth_group_script", &b->access.auth_group_script},
                           std::pair{"access_script", &b->access.access_script}}) {
    auto s = j.find(key);
    if (s == j.end() || s->is_null()) continue;
    if (!s->is_object()) return r.bad_key(key, "must be {\"path\": ..., \"application_group\": ...}");
    Reader sr(*s, path + "." + key + ".");
    AuthScript script;
    TRY(sr.str("path", &script.path));
    TRY(sr.ostr("application_group", &script.application_group));
    *slot = std::move(script);
  }
  std::optional<std::string> at;
  TRY(r.ostr("at", &at));
  if (at) {  // "file:line": names the section in the merge's messages
    size_t colon = at->rfind(':');
    b->loc.file = at->substr(0, colon);
    if (colon != std::string::npos) b->loc.line = std::atoi(at->c_str() + colon + 1);
  }
  return Status::ok();
}

Status blocks_from(const json& a, const std::string& path, std::vector<Block>* out) {
  for (size_t i = 0; i < a.size(); ++i) {
    std::string p = item(path, i);
    Reader r(a[i], p);
    Block b;
    TRY(r.str("path", &b.path));
    TRY(r.boolean("is_regex", &b.is_regex));
    TRY(r.boolean("is_files", &b.is_files));
    TRY(settings_of(a[i], p, &b.settings));
    TRY(rewrite_from(r, p, &b.rewrite));
    if (auto ac = a[i].find("access"); ac != a[i].end() && !ac->is_null())
      TRY(access_from(*ac, p + "access", &b));
    out->push_back(std::move(b));
  }
  return Status::ok();
}

Status tls_from(const json& j, const std::string& p, TlsSettings* t) {
  Reader r(j, p);
  t->engine = true;
  TRY(r.ostr("verify_client", &t->verify_client));
  TRY(r.onum("verify_depth", &t->verify_depth));
  TRY(r.ostr("protocol", &t->protocol));
  TRY(r.ostr("cipher_suite", &t->cipher_suite));
  TRY(r.ostr("cipher_suite_tls13", &t->cipher_suite_tls13));
  TRY(r.obool("honor_cipher_order", &t->honor_cipher_order));
  TRY(r.obool("session_tickets", &t->session_tickets));
  TRY(r.onum("session_cache_timeout", &t->session_cache_timeout));
  TRY(r.obool("std_env_vars", &t->std_env_vars));
  TRY(r.obool("export_cert_data", &t->export_cert_data));
  TRY(r.ostr("certificate_file", &t->certificate_file));
  const json* a = nullptr;
  TRY(r.arr("conf_cmds", &a));
  for (const auto& e : *a) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string())
      return r.bad_key("conf_cmds", "must hold [name, value] pairs of strings");
    t->conf_cmds.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
  }
  return Status::ok();
}

Status vhost_from(const json& j, const std::string& path, VirtualHost* v) {
  if (!j.is_object()) return Reader::bad(path, "must be an object");
  std::string p = path + ".";
  Reader r(j, p);
  const json* a = nullptr;
  TRY(r.arr("addrs", &a));
  for (const auto& e : *a) {
    ListenAddr la;
    if (!e.is_string() || !parse_listen_text(e.get<std::string>(), &la))
      return r.bad_key("addrs", "must hold addresses like \"*:80\"");
    v->addrs.push_back(la);
  }
  std::optional<std::string> name;
  TRY(r.ostr("server_name", &name));
  v->server_name = name.value_or("");
  TRY(r.ostr("document_root", &v->document_root));
  TRY(r.obool("trace_enable", &v->trace_enable));
  TRY(r.arr("server_aliases", &a));
  for (const auto& e : *a) {
    if (!e.is_string()) return r.bad_key("server_aliases", "must hold strings");
    v->server_aliases.push_back(e.get<std::string>());
  }
  TRY(settings_of(j, p, &v->settings));
  TRY(r.arr("mounts", &a));
  for (size_t i = 0; i < a->size(); ++i) {
    Reader mr((*a)[i], item(p + "mounts", i));
    Mount m;
    TRY(mr.str("url", &m.url));
    TRY(mr.str("script", &m.script));
    TRY(mr.boolean("is_match", &m.is_match));
    TRY(mr.ostr("process_group", &m.process_group));
    TRY(mr.ostr("application_group", &m.application_group));
    TRY(mr.ostr("callable_object", &m.callable_object));
    TRY(mr.obool("pass_authorization", &m.pass_authorization));
    v->mounts.push_back(std::move(m));
  }
  TRY(r.arr("locations", &a));
  TRY(blocks_from(*a, p + "locations", &v->locations));
  TRY(r.arr("directories", &a));
  TRY(blocks_from(*a, p + "directories", &v->directories));
  TRY(r.arr("aliases", &a));
  for (size_t i = 0; i < a->size(); ++i) {
    Reader ar((*a)[i], item(p + "aliases", i));
    StaticAlias sa;
    TRY(ar.str("url", &sa.url));
    TRY(ar.str("path", &sa.path));
    TRY(ar.boolean("is_match", &sa.is_match));
    v->aliases.push_back(std::move(sa));
  }
  TRY(r.arr("custom_logs", &a));
  for (size_t i = 0; i < a->size(); ++i) {
    Reader lr((*a)[i], item(p + "custom_logs", i));
    LogFile l;
    TRY(lr.str("path", &l.path));
    TRY(lr.str("format", &l.format));
    v->custom_logs.push_back(std::move(l));
  }
  TRY(rewrite_from(r, p, &v->rewrite));
  const json* rip = nullptr;
  TRY(r.object("remoteip", &rip));
  if (rip) {
    Reader rr(*rip, p + "remoteip.");
    TRY(rr.ostr("header", &v->remoteip_header));
    TRY(rr.ostr("proxies_header", &v->remoteip_proxies_header));
    TRY(rr.obool("proxy_protocol", &v->remoteip_proxy_protocol));
    auto pl = rip->find("proxies");
    if (pl != rip->end() && !pl->is_null()) {
      TRY(rr.arr("proxies", &a));
      v->remoteip_proxies.emplace();
      for (size_t i = 0; i < a->size(); ++i) {
        Reader pr((*a)[i], item(p + "remoteip.proxies", i));
        RemoteIPProxySpec spec;
        TRY(pr.str("address", &spec.address));
        TRY(pr.boolean("internal", &spec.internal));
        v->remoteip_proxies->push_back(std::move(spec));
      }
    }
  }
  const json* t = nullptr;
  TRY(r.object("tls", &t));
  if (t) TRY(tls_from(*t, p + "tls.", &v->tls));
  return Status::ok();
}

Status limits_from(const Reader& top, Config* c) {
  const json* lim = nullptr;
  TRY(top.object("limits", &lim));
  if (!lim) return Status::ok();
  Reader r(*lim, "limits.");
  TRY(r.num("request_line", &c->limit_request_line));
  TRY(r.num("field_size", &c->limit_request_field_size));
  TRY(r.num("fields", &c->limit_request_fields));
  TRY(r.num("body", &c->limit_request_body));
  TRY(r.num("timeout", &c->timeout));
  TRY(r.boolean("keep_alive", &c->keep_alive));
  TRY(r.num("keep_alive_timeout", &c->keep_alive_timeout));
  TRY(r.num("max_keep_alive_requests", &c->max_keep_alive_requests));
  TRY(r.num("header_timeout", &c->request_read_header_timeout));
  TRY(r.num("body_timeout", &c->request_read_body_timeout));
  TRY(r.num("drain_delay", &c->drain_delay));
  return Status::ok();
}

Status embedded_from(const Reader& top, Config* c) {
  const json* emb = nullptr;
  TRY(top.object("embedded", &emb));
  if (!emb) return Status::ok();
  Reader r(*emb, "embedded.");
  TRY(r.num("threads", &c->threads_per_child));
  if (c->threads_per_child < 1) return r.bad_key("threads", "must be at least 1");
  TRY(r.ostr("python_home", &c->python_home));
  const json* a = nullptr;
  TRY(r.arr("python_path", &a));
  for (const auto& e : *a) {
    if (!e.is_string()) return r.bad_key("python_path", "must be an array of strings");
    c->python_path.push_back(e.get<std::string>());
  }
  return Status::ok();
}

Status groups_from(const Reader& top, std::vector<GroupEndpoint>* out) {
  const json* a = nullptr;
  TRY(top.arr("groups", &a));
  for (size_t i = 0; i < a->size(); ++i) {
    Reader r((*a)[i], item("groups", i));
    GroupEndpoint g;
    TRY(r.str("name", &g.name));
    TRY(r.str("socket", &g.socket));
    TRY(r.num("processes", &g.processes));
    TRY(r.num("threads", &g.threads));
    TRY(r.num("connect_timeout", &g.connect_timeout));
    TRY(r.num("socket_timeout", &g.socket_timeout));
    TRY(r.num("queue_timeout", &g.queue_timeout));
    std::optional<std::string> state;
    TRY(r.ostr("state", &state));
    g.state = state.value_or("running");
    if (g.state != "running" && g.state != "replacing" && g.state != "stopped" && g.state != "down")
      return r.bad_key("state", "must be \"running\", \"replacing\", \"stopped\" or \"down\"");
    out->push_back(std::move(g));
  }
  return Status::ok();
}

}  // namespace

std::string listen_text(const ListenAddr& a) { return a.text(); }

bool parse_listen_text(std::string_view t, ListenAddr* out) {
  size_t colon = t.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = t.substr(0, colon), port = t.substr(colon + 1);
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*" || host == "0.0.0.0" || host == "::") host = "";
  out->host = std::string(host);
  out->port = p;
  return true;
}

json frontend_settings_to_json(const Config& c,
                               const std::map<std::string, std::string>& socket_paths,
                               const std::map<std::string, std::string>& states,
                               int generation) {
  json listen = json::array(), protocols = json::array();
  for (const auto& l : c.listen) {
    listen.push_back(listen_text(l));
    protocols.push_back(protocol_name(l.protocol));
  }
  json groups = json::array();
  for (const auto& g : c.groups) {
    auto sp = socket_paths.find(g.name);
    auto st = states.find(g.name);
    groups.push_back({{"name", g.name},
                      {"socket", sp == socket_paths.end() ? std::string() : sp->second},
                      {"processes", g.processes}, {"threads", g.threads},
                      {"connect_timeout", g.connect_timeout},
                      {"socket_timeout", g.socket_timeout},
                      {"queue_timeout", g.queue_timeout},
                      {"state", st == states.end() ? std::string("running") : st->second}});
  }
  json vhosts = json::array();
  for (const auto& v : c.vhosts) vhosts.push_back(vhost_json(v));
  VirtualHost server = c.server;
  if (!server.settings.script_reloading) server.settings.script_reloading = c.script_reloading;
  return {{"role", "frontend"},
          {"generation", generation},
          {"user", opt(c.user)},
          {"group", opt(c.group)},
          {"log_level", c.log_level},
          {"listen", listen},
          {"listen_protocols", protocols},
          {"limits", {{"request_line", c.limit_request_line},
                      {"field_size", c.limit_request_field_size},
                      {"fields", c.limit_request_fields},
                      {"body", c.limit_request_body},
                      {"timeout", c.timeout},
                      {"keep_alive", c.keep_alive},
                      {"keep_alive_timeout", c.keep_alive_timeout},
                      {"max_keep_alive_requests", c.max_keep_alive_requests},
                      {"header_timeout", c.request_read_header_timeout},
                      {"body_timeout", c.request_read_body_timeout},
                      {"drain_delay", c.drain_delay}}},
          {"restrict_embedded", c.restrict_embedded},
          {"embedded", {{"threads", c.threads_per_child},
                        {"python_home", opt(c.python_home)},
                        {"python_path", c.python_path}}},
          {"groups", groups},
          {"proxy_protocol_exceptions", c.proxy_protocol_exceptions},
          {"uwsgi_trusted_peers", c.uwsgi_trusted_peers},
          {"server", vhost_json(server)},
          {"vhosts", vhosts}};
}

json tls_material_json(const std::map<int, TlsMaterial>& material) {
  json a = json::array();
  for (const auto& [index, m] : material)
    a.push_back({{"vhost", index}, {"cert", m.cert_chain}, {"key", m.key}, {"ca", m.ca}});
  return a;
}

Result<FrontendSettings> frontend_settings_from_json(const json& j) {
  if (!j.is_object()) return Status::error("settings: not a JSON object");
  FrontendSettings s;
  Config& c = s.config;
  Reader top(j, "");
  TRY(top.num("generation", &s.generation));
  TRY(top.ostr("user", &s.user));
  TRY(top.ostr("group", &s.group));
  std::optional<std::string> level;
  TRY(top.ostr("log_level", &level));
  s.log_level = level.value_or("warn");
  const json* listen = nullptr;
  TRY(top.arr("listen", &listen));
  for (const auto& a : *listen) {
    ListenAddr la;
    if (!a.is_string() || !parse_listen_text(a.get<std::string>(), &la))
      return top.bad_key("listen", "must hold addresses like \"127.0.0.1:8080\"");
    c.listen.push_back(la);
  }
  const json* protocols = nullptr;
  TRY(top.arr("listen_protocols", &protocols));
  for (size_t i = 0; i < protocols->size(); ++i) {
    const json& p = (*protocols)[i];
    if (i >= c.listen.size() || !p.is_string() ||
        !protocol_from_name(p.get<std::string>(), &c.listen[i].protocol))
      return top.bad_key("listen_protocols",
                         "must hold one of \"http\", \"https\", \"haproxy-agent\", \"uwsgi\" per "
                         "listen address");
  }
  const json* material = nullptr;
  TRY(top.arr("tls_material", &material));
  for (size_t i = 0; i < material->size(); ++i) {
    Reader mr((*material)[i], item("tls_material", i));
    int index = -2;
    TRY(mr.num("vhost", &index));
    TlsMaterial m;
    TRY(mr.str("cert", &m.cert_chain));
    TRY(mr.str("key", &m.key));
    TRY(mr.str("ca", &m.ca));
    s.tls_material[index] = std::move(m);
  }
  const json* held = nullptr;
  TRY(top.arr("listen_systemd", &held));
  for (const json& i : *held) {
    if (!i.is_number_unsigned() || i.get<size_t>() >= c.listen.size())
      return top.bad_key("listen_systemd", "must hold indices of \"listen\"");
    s.listen_systemd.insert(i.get<size_t>());
  }
  TRY(top.num("loops", &s.loops));
  if (s.loops < 1 || s.loops > kMaxFrontendLoops)
    return top.bad_key("loops", "must be from 1 to " + std::to_string(kMaxFrontendLoops));
  TRY(limits_from(top, &c));
  TRY(top.boolean("restrict_embedded", &c.restrict_embedded));
  TRY(embedded_from(top, &c));
  TRY(groups_from(top, &s.groups));
  TRY(strings_from(top, "proxy_protocol_exceptions", &c.proxy_protocol_exceptions));
  c.uwsgi_trusted_peers.clear();  // the message's list replaces the default
  TRY(strings_from(top, "uwsgi_trusted_peers", &c.uwsgi_trusted_peers));
  auto srv = j.find("server");
  if (srv != j.end() && !srv->is_null()) TRY(vhost_from(*srv, "server", &c.server));
  const json* vhosts = nullptr;
  TRY(top.arr("vhosts", &vhosts));
  for (size_t i = 0; i < vhosts->size(); ++i) {
    VirtualHost v;
    TRY(vhost_from((*vhosts)[i], "vhosts[" + std::to_string(i) + "]", &v));
    c.vhosts.push_back(std::move(v));
  }
  return s;
}

}  // namespace wsgid::model
