// The access phase of a request (issue 11 points 1 and 2): what Apache 2.4 does
// between mapping a URL to a file and running the handler, with the engines of
// supervisor/authz (Require, Order/Allow/Deny, AllowMethods, AuthMerging) and
// supervisor/authn (Basic credentials, AuthUserFile, AuthGroupFile).
//
// AccessPolicies belongs to one Router (one set of settings). For a request it
// lists the sections that apply (model::Resolver::sections(): Apache's merge
// order, <Directory> shortest first ... <Location> last, the server's before the
// vhost's), rebuilds each section's policy from its lines (authz::build_section)
// and merges them (authz::merge); the result is cached per distinct chain of
// sections, so each chain is merged once. Loop thread only (the cache is not
// locked).
//
// A request then goes through begin() and, when it carries Basic credentials
// that must be checked, through PasswordCheck (the password file and the group
// file are read and bcrypt runs on libuv's thread pool, uv_queue_work: never on
// the loop) and finish(). Outcomes, Apache's: allow; 403; 405 (AllowMethods);
// 401 with `WWW-Authenticate: Basic realm="..."` (no, malformed or wrong
// credentials, or a user the rules refuse); 500 (AuthType without Require,
// AuthType without AuthName, a password file that cannot be read, AuthType
// Basic without AuthUserFile). Apache 2.2 and 2.4 rules on one path are both
// enforced, as in Apache (authz/policy.h).
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "supervisor/authn/groupfile.h"
#include "supervisor/authn/htpasswd.h"
#include "supervisor/authz/policy.h"
#include "model/resolve.h"

namespace wsgid::frontend {

// The merged access settings of one chain of sections.
struct AccessChain {
  bool any = false;  // some section of the chain has access settings
  Status error;      // a section did not build (a 500 for every request of the chain)
  authz::MergedPolicy merged;
  std::shared_ptr<authn::UserFile> user_file;    // the last AuthUserFile set, or null
  std::shared_ptr<authn::GroupFile> group_file;  // the last AuthGroupFile set, or null
};

// What the access phase answers.
struct AccessAnswer {
  enum class Kind { kAllow, kRefuse, kCheckPassword };
  Kind kind = Kind::kAllow;
  int status = 0;          // kRefuse: 401, 403, 405 or 500
  std::string reason;      // kRefuse: Apache's words, for the log
  std::string challenge;   // status 401: the WWW-Authenticate value
  std::string user;        // kCheckPassword: the credentials to check
  std::string password;
};

class AccessPolicies {
 public:
  // config and resolver must outlive this object (the Router owns all three).
  AccessPolicies(const model::Config& config, const model::Resolver& resolver);

  // The chain for a request to url_path mapped to file ("" when no file), in the
  // vhost with that index (-1 = main server). The reference stays valid for the
  // life of this object.
  const AccessChain& chain(int vhost, std::string_view url_path, std::string_view file) const;

 private:
  std::shared_ptr<authn::UserFile> user_file(const std::string& path) const;
  std::shared_ptr<authn::GroupFile> group_file(const std::string& path) const;

  const model::Config* config_;
  const model::Resolver* resolver_;
  mutable std::map<std::vector<const model::Block*>, std::unique_ptr<AccessChain>> chains_;
  mutable std::map<std::string, std::shared_ptr<authn::UserFile>> user_files_;
  mutable std::map<std::string, std::shared_ptr<authn::GroupFile>> group_files_;
};

// Before authentication. r.user must be unset. authorization: the value of the
// request's Authorization header ("" when none; never Proxy-Authorization).
AccessAnswer access_begin(const AccessChain& chain, const authz::Request& r,
                          std::string_view authorization);

// What the thread pool found out about the credentials.
struct PasswordResult {
  authn::Verdict verdict;
  std::optional<Result<authn::Groups>> groups;  // set when the chain has an AuthGroupFile
};

// After the password check: kAllow (r.user is then the user) or kRefuse.
AccessAnswer access_finish(const AccessChain& chain, authz::Request& r, const std::string& user,
                           const PasswordResult& result);

// One password check on libuv's thread pool. start() queues it; done is called
// on the loop thread with the result, unless cancel() was called first (the
// connection went away): then the job frees itself when the thread is done.
// The files are held by shared_ptr, so a reload cannot free them mid-check.
class PasswordCheck {
 public:
  using Done = std::function<void(const PasswordResult&)>;
  // Returns the job (owned by itself until done or cancelled), or nullptr with
  // *error set when uv_queue_work fails.
  static PasswordCheck* start(uv_loop_t* loop, const AccessChain& chain, std::string user,
                              std::string password, Done done, std::string* error);
  void cancel() { done_ = nullptr; }

 private:
  PasswordCheck() = default;
  uv_work_t work_{};
  std::shared_ptr<authn::UserFile> users_;
  std::shared_ptr<authn::GroupFile> groups_;
  std::string user_, password_;
  PasswordResult result_;
  Done done_;
};

}  // namespace wsgid::frontend
