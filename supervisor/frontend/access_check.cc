// The access phase; see access_check.h.
#include "supervisor/frontend/access_check.h"

#include <utility>

#include "common/log.h"
#include "supervisor/authn/basic.h"

namespace wsgid::frontend {

namespace {

AccessAnswer refuse(int status, std::string reason, std::string challenge = {}) {
  AccessAnswer a;
  a.kind = AccessAnswer::Kind::kRefuse;
  a.status = status;
  a.reason = std::move(reason);
  a.challenge = std::move(challenge);
  return a;
}

bool holds(const std::vector<model::Block>& v, const model::Block* b) {
  return !v.empty() && b >= v.data() && b < v.data() + v.size();
}

// "<Location /admin> at site.conf:12": names a section in the merge's errors.
std::string label(const model::Config& cfg, const model::Block& b) {
  bool location = holds(cfg.server.locations, &b);
  for (const model::VirtualHost& vh : cfg.vhosts) location |= holds(vh.locations, &b);
  std::string kind = location ? "Location" : b.is_files ? "Files" : "Directory";
  if (b.is_regex) kind += "Match";
  return "<" + kind + " " + b.path + "> at " + b.loc.file + ":" + std::to_string(b.loc.line);
}

// The decision as an answer; challenge for a 401.
AccessAnswer answer(const authz::Decision& d, const std::string& challenge) {
  switch (d.verdict) {
    case authz::Verdict::kAllow: return {};
    case authz::Verdict::kUnauthorized: return refuse(401, d.reason, challenge);
    case authz::Verdict::kForbidden:
    case authz::Verdict::kServerError:
    case authz::Verdict::kMethodNotAllowed: return refuse(d.status, d.reason);
    case authz::Verdict::kAuthenticate: break;
  }
  return refuse(500, "authentication asked for after authentication");
}

}  // namespace

AccessPolicies::AccessPolicies(const model::Config& config, const model::Resolver& resolver)
    : config_(&config), resolver_(&resolver) {}

std::shared_ptr<authn::UserFile> AccessPolicies::user_file(const std::string& path) const {
  auto& f = user_files_[path];
  if (!f) f = std::make_shared<authn::UserFile>(path);
  return f;
}

std::shared_ptr<authn::GroupFile> AccessPolicies::group_file(const std::string& path) const {
  auto& f = group_files_[path];
  if (!f) f = std::make_shared<authn::GroupFile>(path);
  return f;
}

const AccessChain& AccessPolicies::chain(int vhost, std::string_view url_path,
                                         std::string_view file) const {
  std::vector<const model::Block*> blocks = resolver_->sections(vhost, url_path, file);
  std::erase_if(blocks, [](const model::Block* b) { return b->access.empty(); });
  auto it = chains_.find(blocks);
  if (it != chains_.end()) return *it->second;

  auto c = std::make_shared<AccessChain>();
  c->any = !blocks.empty();
  std::vector<authz::SectionPolicy> policies;
  policies.reserve(blocks.size());
  for (const model::Block* b : blocks) {
    if (b->access.user_file) c->user_file = user_file(*b->access.user_file);
    if (b->access.group_file) c->group_file = group_file(*b->access.group_file);
    if (b->access.basic_providers) c->providers = *b->access.basic_providers;
    if (b->access.auth_user_script) c->auth_user_script = b->access.auth_user_script;
    if (b->access.auth_group_script) c->auth_group_script = b->access.auth_group_script;
    if (b->access.access_script) c->access_script = b->access.access_script;
    std::vector<authz::Line> lines;
    for (const model::AccessLine& l : b->access.lines) lines.push_back({l.name, l.args});
    Result<authz::SectionPolicy> p = authz::build_section(label(*config_, *b), lines);
    if (!p) {  // the parser checked these lines: only a bad kSettings gets here
      c->error = p.status();
      break;
    }
    policies.push_back(std::move(*p));
  }
  if (c->error.is_ok()) {
    std::vector<const authz::SectionPolicy*> ptrs;
    for (const authz::SectionPolicy& p : policies) ptrs.push_back(&p);
    c->merged = authz::merge(ptrs);
  }
  const AccessChain& ref = *c;
  chains_.emplace(std::move(blocks), std::move(c));
  return ref;
}

namespace {

// The Require part before authentication, with the credentials read: an answer,
// or kBlocking with a.user set when there are credentials to check.
AccessAnswer before_authentication(const AccessChain& chain, const authz::Request& r,
                                   std::string_view authorization,
                                   std::optional<authn::BasicCredentials>* creds_out) {
  authz::Decision d = authz::decide(chain.merged, r);
  std::string challenge;
  if (d.verdict == authz::Verdict::kAuthenticate || d.verdict == authz::Verdict::kUnauthorized) {
    Result<std::string> ch = authn::basic_challenge(chain.merged.auth_name.value_or(""));
    if (!ch) return refuse(500, ch.status().message());
    challenge = std::move(*ch);
  }
  if (d.verdict != authz::Verdict::kAuthenticate) return answer(d, challenge);
  // AuthType Basic (the parser refuses every other) with AuthName (decide()
  // answered 500 without one).
  Result<authn::BasicCredentials> creds = authn::parse_basic_credentials(authorization);
  if (!creds) return refuse(401, creds.status().message(), challenge);
  AccessAnswer a;
  a.kind = AccessAnswer::Kind::kBlocking;
  a.challenge = std::move(challenge);
  a.user = creds->user;
  if (creds_out) *creds_out = std::move(*creds);
  return a;
}

// One provider of the AuthBasicProvider chain.
authn::Outcome check_with(const std::string& provider, const AccessChain& chain,
                          const ScriptCall& call, ScriptRunner* scripts,
                          const authn::BasicCredentials& creds, std::string* renamed,
                          std::string* error) {
  if (provider == "file") {
    if (!chain.user_file) {
      *error = "AuthType Basic without AuthUserFile: no password file to check "
               "(Apache's mod_authn_file answers 500)";
      return authn::Outcome::kError;
    }
    authn::Verdict v = chain.user_file->check(creds.user, creds.password);
    for (const std::string& w : v.warnings) log::warn("AuthUserFile {}", w);
    *error = v.error;
    return v.outcome;
  }
  // "wsgi": mod_wsgi's check_password().
  if (!chain.auth_user_script) {
    *error = "AuthBasicProvider wsgi without WSGIAuthUserScript: Location of WSGI user "
             "authentication script not provided (mod_wsgi answers 500)";
    return authn::Outcome::kError;
  }
  if (!scripts) {
    *error = "WSGIAuthUserScript " + chain.auth_user_script->path +
             ": the front end's Python did not start";
    return authn::Outcome::kError;
  }
  ScriptCall c = call;
  c.script = &*chain.auth_user_script;
  authn::Outcome o = scripts->check_password(c, creds.user, creds.password, renamed);
  if (o == authn::Outcome::kError)
    *error = "WSGIAuthUserScript " + chain.auth_user_script->path +
             ": check_password() failed (the traceback is in the log)";
  return o;
}

}  // namespace

AccessAnswer access_begin(const AccessChain& chain, const authz::Request& r,
                          std::string_view authorization) {
  if (!chain.any) return {};
  if (!chain.error.is_ok()) return refuse(500, chain.error.message());
  if (authz::Decision d = authz::decide_host(chain.merged, r); d.verdict != authz::Verdict::kAllow)
    return answer(d, {});
  if (chain.access_script) {
    AccessAnswer a;
    a.kind = AccessAnswer::Kind::kBlocking;
    return a;
  }
  return before_authentication(chain, r, authorization, nullptr);
}

AccessAnswer access_blocking(const AccessChain& chain, authz::Request& r, const BlockingInput& in,
                             ScriptRunner* scripts) {
  if (!chain.any) return {};
  if (!chain.error.is_ok()) return refuse(500, chain.error.message());
  if (authz::Decision d = authz::decide_host(chain.merged, r); d.verdict != authz::Verdict::kAllow)
    return answer(d, {});
  ScriptCall call;
  call.environ = in.environ;
  call.request_id = in.request_id;
  if (chain.access_script) {
    // mod_wsgi's access checker: False, an error, or no Python at all: 403.
    ScriptVote v = ScriptVote::kError;
    if (scripts) {
      call.script = &*chain.access_script;
      v = scripts->allow_access(call, in.host);
    } else {
      log::error("WSGIAccessScript {}: the front end's Python did not start",
                 chain.access_script->path);
    }
    if (v == ScriptVote::kFalse)
      return refuse(403, "client denied by server configuration: allow_access() of " +
                             chain.access_script->path + " returned False");
    if (v == ScriptVote::kError)
      return refuse(403, "client denied by server configuration: allow_access() of " +
                             chain.access_script->path + " failed (the traceback is in the log)");
  }
  std::optional<authn::BasicCredentials> creds;
  AccessAnswer a = before_authentication(chain, r, in.authorization, &creds);
  if (a.kind != AccessAnswer::Kind::kBlocking) return a;
  const std::string challenge = a.challenge;
  std::string renamed, error;
  authn::Outcome outcome = authn::Outcome::kNoSuchUser;
  for (const std::string& provider : chain.providers) {
    outcome = check_with(provider, chain, call, scripts, *creds, &renamed, &error);
    if (outcome != authn::Outcome::kNoSuchUser) break;  // mod_auth_basic's loop
  }
  const std::string& user = creds->user;
  AccessAnswer out;
  switch (outcome) {
    case authn::Outcome::kGranted: break;
    case authn::Outcome::kDenied:
      out = refuse(401, "user " + user + ": authentication failure: Password Mismatch", challenge);
      break;
    case authn::Outcome::kNoSuchUser: out = refuse(401, "user " + user + " not found", challenge); break;
    case authn::Outcome::kError: out = refuse(500, error); break;
  }
  if (outcome != authn::Outcome::kGranted) {
    out.user = user;
    return out;
  }
  r.user = renamed.empty() ? user : renamed;
  const AccessChain* ch = &chain;
  r.groups = [ch, &call, scripts](authz::GroupSource src,
                                  std::string_view u) -> Result<std::vector<std::string>> {
    if (src == authz::GroupSource::kGroupFile) {
      if (!ch->group_file)
        return Status::error("No group file was specified in the configuration");
      Result<authn::Groups> g = ch->group_file->groups_for(u);
      if (!g) return g.status();
      for (const std::string& w : g->warnings) log::warn("AuthGroupFile {}", w);
      return g->names;
    }
    if (!ch->auth_group_script)
      return Status::error("Location of WSGI group authorization script not provided");
    if (!scripts)
      return Status::error("WSGIAuthGroupScript " + ch->auth_group_script->path +
                           ": the front end's Python did not start");
    ScriptCall c = call;
    c.script = &*ch->auth_group_script;
    return scripts->groups_for_user(c, u);
  };
  out = answer(authz::decide(chain.merged, r), challenge);
  out.user = *r.user;
  out.authenticated = out.kind == AccessAnswer::Kind::kAllow;
  r.groups = nullptr;
  return out;
}

AccessJob* AccessJob::start(uv_loop_t* loop, const AccessChain& chain, ScriptRunner* scripts,
                            Input in, Done done, std::string* error) {
  auto* job = new AccessJob();
  job->chain_ = chain.shared_from_this();
  job->scripts_ = scripts;
  job->in_ = std::move(in);
  job->done_ = std::move(done);
  job->work_.data = job;
  int rc = uv_queue_work(
      loop, &job->work_,
      [](uv_work_t* w) {  // a pool thread: file reads, bcrypt, Python
        auto* j = static_cast<AccessJob*>(w->data);
        authz::Request r;
        r.client = j->in_.client;
        r.server = j->in_.server;
        r.method = j->in_.method;
        BlockingInput bi;
        bi.authorization = j->in_.authorization;
        bi.environ = j->in_.environ;
        bi.host = j->in_.host;
        bi.request_id = j->in_.request_id;
        j->answer_ = access_blocking(*j->chain_, r, bi, j->scripts_);
      },
      [](uv_work_t* w, int) {  // the loop thread
        auto* j = static_cast<AccessJob*>(w->data);
        if (j->done_) j->done_(j->answer_);
        delete j;
      });
  if (rc != 0) {
    *error = std::string("uv_queue_work: ") + uv_strerror(rc);
    delete job;
    return nullptr;
  }
  return job;
}

}  // namespace wsgid::frontend
