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
// A request then goes through access_begin() on the loop thread, which answers
// at once when nothing blocking is needed (no rule, a 403/405 of the 2.2 rules
// or AllowMethods, a 401 for missing credentials). Otherwise (a WSGIAccessScript
// to ask, credentials to check) an AccessJob runs access_blocking() on libuv's
// thread pool (uv_queue_work: never on the loop): the password and group files
// are read and bcrypt runs there, and so do mod_wsgi's Python providers
// (ScriptRunner, auth_scripts.h: check_password(), groups_for_user(),
// allow_access(), in the front end's Python as mod_wsgi runs them in the Apache
// child). Apache's order (server/request.c ap_process_request_internal):
// AllowMethods (405), Order/Allow/Deny (403), WSGIAccessScript (False or an
// error: 403; True and None let the rest decide, as an access checker's OK and
// DECLINED do under Satisfy All), Require without a user, then the
// AuthBasicProvider chain in order (`file`, `wsgi`: the next one is asked only
// when a provider does not know the user, mod_auth_basic's loop), then Require
// with the user (`Require group` reads AuthGroupFile, `Require wsgi-group` calls
// groups_for_user(); a failed lookup denies). Outcomes, Apache's: allow; 403;
// 405; 401 with `WWW-Authenticate: Basic realm="..."` (no, malformed or wrong
// credentials, or a user the rules refuse; 403 with AuthzSendForbiddenOnFailure
// On); 500 (AuthType without Require, AuthType without AuthName, a password file
// that cannot be read, a check_password() that raised or answered something else
// than True/False/None/a user name, provider `file` without AuthUserFile,
// provider `wsgi` without WSGIAuthUserScript). Apache 2.2 and 2.4 rules on one
// path are both enforced, as in Apache (authz/policy.h).
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

// The merged access settings of one chain of sections. Held by shared_ptr, so
// an AccessJob keeps its chain alive across a reload.
struct AccessChain : std::enable_shared_from_this<AccessChain> {
  bool any = false;  // some section of the chain has access settings
  Status error;      // a section did not build (a 500 for every request of the chain)
  authz::MergedPolicy merged;
  std::shared_ptr<authn::UserFile> user_file;    // the last AuthUserFile set, or null
  std::shared_ptr<authn::GroupFile> group_file;  // the last AuthGroupFile set, or null
  // The last AuthBasicProvider set (mod_auth_basic's merge), "file" by default.
  std::vector<std::string> providers{"file"};
  // mod_wsgi's scripts: the last one set of each (mod_wsgi's merge).
  std::optional<model::AuthScript> auth_user_script, auth_group_script, access_script;
  bool has_scripts() const { return auth_user_script || auth_group_script || access_script; }
};

// What the access phase answers.
struct AccessAnswer {
  enum class Kind { kAllow, kRefuse, kBlocking };
  Kind kind = Kind::kAllow;
  int status = 0;          // kRefuse: 401, 403, 405 or 500
  std::string reason;      // kRefuse: Apache's words, for the log
  std::string challenge;   // status 401: the WWW-Authenticate value
  // The user the credentials named (renamed by check_password() when it returned
  // a name), once access_blocking() read them, allowed or not: REMOTE_USER
  // when allowed, %u in the access log either way.
  std::string user;
  // kAllow with a user: the authentication scheme ("Basic") for AUTH_TYPE.
  bool authenticated = false;
};

// What a pool thread may ask of mod_wsgi's Python providers (auth_scripts.h runs
// them in the front end's Python; tests fake them). Blocking; any thread.
struct ScriptCall {
  const model::AuthScript* script = nullptr;
  std::string_view environ;  // the request's environ as REQUEST_HEAD pairs (PROTOCOL.md 5.2)
  uint32_t request_id = 0;   // tags the traceback in the log
};
enum class ScriptVote { kTrue, kFalse, kNone, kError };
class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  // allow_access(environ, host): True, False, None; kError when the script cannot
  // be loaded, has no allow_access, raised or answered anything else (logged).
  virtual ScriptVote allow_access(const ScriptCall& call, std::string_view host) = 0;
  // check_password(environ, user, password): True kGranted, False kDenied, None
  // kNoSuchUser, a non-empty str kGranted with *renamed set; kError as above.
  virtual authn::Outcome check_password(const ScriptCall& call, std::string_view user,
                                        std::string_view password, std::string* renamed) = 0;
  // groups_for_user(environ, user): the names (bytes or str items), or an error
  // (logged by the runner).
  virtual Result<std::vector<std::string>> groups_for_user(const ScriptCall& call,
                                                           std::string_view user) = 0;
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
  mutable std::map<std::vector<const model::Block*>, std::shared_ptr<AccessChain>> chains_;
  mutable std::map<std::string, std::shared_ptr<authn::UserFile>> user_files_;
  mutable std::map<std::string, std::shared_ptr<authn::GroupFile>> group_files_;
};

// The loop thread's part. r.user must be unset. authorization: the value of the
// request's Authorization header ("" when none; never Proxy-Authorization).
// kBlocking: the rest must run in access_blocking() on a pool thread.
AccessAnswer access_begin(const AccessChain& chain, const authz::Request& r,
                          std::string_view authorization);

// The facts access_blocking() needs beyond the authz::Request.
struct BlockingInput {
  std::string_view authorization;
  std::string_view environ;  // for the scripts: REQUEST_HEAD pairs; "" when none is set
  std::string_view host;     // allow_access()'s host: the client's address (no DNS lookups)
  uint32_t request_id = 0;
};

// The rest of the access phase after access_begin() said kBlocking: blocking,
// any thread. scripts may be null when the front end's Python could not start
// (a script then answers kError). On kAllow after authentication r.user is the user.
AccessAnswer access_blocking(const AccessChain& chain, authz::Request& r, const BlockingInput& in,
                             ScriptRunner* scripts);

// One access_blocking() on libuv's thread pool. start() queues it; done is
// called on the loop thread with the answer, unless cancel() was called first
// (the connection went away): then the job frees itself when the thread is done.
// The job holds the chain (and with it the files) by shared_ptr and copies the
// request's facts, so neither a reload nor the connection's end can free what the
// thread reads. scripts must outlive the job (the Server's, for the process's life).
class AccessJob {
 public:
  using Done = std::function<void(const AccessAnswer&)>;
  struct Input {
    authz::Address client, server;
    std::string method, authorization, environ, host;
    uint32_t request_id = 0;
  };
  // Returns the job (owned by itself until done or cancelled), or nullptr with
  // *error set when uv_queue_work fails.
  static AccessJob* start(uv_loop_t* loop, const AccessChain& chain, ScriptRunner* scripts,
                          Input in, Done done, std::string* error);
  void cancel() { done_ = nullptr; }

 private:
  AccessJob() = default;
  uv_work_t work_{};
  std::shared_ptr<const AccessChain> chain_;
  ScriptRunner* scripts_ = nullptr;
  Input in_;
  AccessAnswer answer_;
  Done done_;
};

}  // namespace wsgid::frontend
