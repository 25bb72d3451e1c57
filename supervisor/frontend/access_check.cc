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

  auto c = std::make_unique<AccessChain>();
  c->any = !blocks.empty();
  std::vector<authz::SectionPolicy> policies;
  policies.reserve(blocks.size());
  for (const model::Block* b : blocks) {
    if (b->access.user_file) c->user_file = user_file(*b->access.user_file);
    if (b->access.group_file) c->group_file = group_file(*b->access.group_file);
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

AccessAnswer access_begin(const AccessChain& chain, const authz::Request& r,
                          std::string_view authorization) {
  if (!chain.any) return {};
  if (!chain.error.is_ok()) return refuse(500, chain.error.message());
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
  if (!chain.user_file)
    return refuse(500, "AuthType Basic without AuthUserFile: no password file to check "
                       "(Apache's mod_authn_file answers 500)");
  Result<authn::BasicCredentials> creds = authn::parse_basic_credentials(authorization);
  if (!creds) return refuse(401, creds.status().message(), challenge);
  AccessAnswer a;
  a.kind = AccessAnswer::Kind::kCheckPassword;
  a.challenge = std::move(challenge);
  a.user = std::move(creds->user);
  a.password = std::move(creds->password);
  return a;
}

AccessAnswer access_finish(const AccessChain& chain, authz::Request& r, const std::string& user,
                           const PasswordResult& result) {
  Result<std::string> ch = authn::basic_challenge(chain.merged.auth_name.value_or(""));
  std::string challenge = ch ? *ch : std::string();
  for (const std::string& w : result.verdict.warnings) log::warn("AuthUserFile {}", w);
  switch (result.verdict.outcome) {
    case authn::Outcome::kGranted: break;
    case authn::Outcome::kDenied:
      return refuse(401, "user " + user + ": authentication failure: Password Mismatch",
                    challenge);
    case authn::Outcome::kNoSuchUser:
      return refuse(401, "user " + user + " not found", challenge);
    case authn::Outcome::kError: return refuse(500, result.verdict.error);
  }
  r.user = user;
  if (result.groups) {
    if (*result.groups)
      for (const std::string& w : (*result.groups)->warnings) log::warn("AuthGroupFile {}", w);
    r.groups = [&result](authz::GroupSource src,
                         std::string_view) -> Result<std::vector<std::string>> {
      if (src != authz::GroupSource::kGroupFile)
        return Status::error("Require wsgi-group is not implemented");
      if (!*result.groups) return result.groups->status();
      return (*result.groups)->names;
    };
  }
  authz::Decision d = authz::decide(chain.merged, r);
  return answer(d, challenge);
}

PasswordCheck* PasswordCheck::start(uv_loop_t* loop, const AccessChain& chain, std::string user,
                                    std::string password, Done done, std::string* error) {
  auto* job = new PasswordCheck();
  job->users_ = chain.user_file;
  job->groups_ = chain.group_file;
  job->user_ = std::move(user);
  job->password_ = std::move(password);
  job->done_ = std::move(done);
  job->work_.data = job;
  int rc = uv_queue_work(
      loop, &job->work_,
      [](uv_work_t* w) {  // a pool thread: blocking file reads and bcrypt
        auto* j = static_cast<PasswordCheck*>(w->data);
        j->result_.verdict = j->users_->check(j->user_, j->password_);
        if (j->groups_ && j->result_.verdict.outcome == authn::Outcome::kGranted)
          j->result_.groups = j->groups_->groups_for(j->user_);
      },
      [](uv_work_t* w, int) {  // the loop thread
        auto* j = static_cast<PasswordCheck*>(w->data);
        if (j->done_) j->done_(j->result_);
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
