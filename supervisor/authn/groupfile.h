// AuthGroupFile: the groups of a user, read from a group file as Apache's
// mod_authz_groupfile reads it, for `Require group`.
//
// Each line is "group: user1 user2 ..." (Apache's line rules, cfg_lines.h): the
// group name runs to the first ':' (white space before the ':' is not part of
// it), the members are words as Apache's ap_getword_conf reads them (separated
// by white space; '...' or "..." quote a name with spaces). A group may have
// several lines; their members add up. User names compare byte for byte, as
// Apache's strcmp; group names compare ignoring ASCII case (Groups::contains),
// because Apache keeps a user's groups in an apr_table, whose lookups ignore
// case. A changed file takes effect at the next groups_for() (reloading_file.h),
// as Apache reads the file on every request.
//
// Diagnostics, "PATH:LINE: message", are made once per load and handed to the
// caller whose groups_for() loaded the file (Groups::warnings). None of them
// gives anyone a group Apache would not have given: a line without ':' names no
// member (in Apache it is a group named after the whole line, with no member).
//
// Thread-safe and blocking like UserFile (htpasswd.h): call groups_for() on a
// uv_queue_work thread, from any number of threads at once; the GroupFile must
// outlive every call in progress.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "supervisor/authn/reloading_file.h"

namespace wsgid::authn {

// The parsed file. Pure: parse() does no I/O, groups_of() is const.
class GroupTable {
 public:
  // Never fails; what is wrong is in diagnostics(). Messages:
  //   "PATH:N: no ':' after the group name; line ignored"
  //   "PATH:N: empty group name; line ignored"
  //   "PATH:N: line longer than 16 MiB; Apache stops reading the file here, so
  //    the lines after it are ignored"
  static GroupTable parse(std::string_view path, std::string_view text);

  // user's groups in the order of their first line naming user; each once.
  std::vector<std::string> groups_of(std::string_view user) const;
  const std::vector<std::string>& diagnostics() const { return diagnostics_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> groups_by_user_;
  std::vector<std::string> diagnostics_;
};

struct Groups {
  std::vector<std::string> names;     // the user's groups; empty: none
  std::vector<std::string> warnings;  // the diagnostics of a load this call did
  // Whether group is among names, ignoring ASCII case as Apache does.
  bool contains(std::string_view group) const;
};

class GroupFile {
 public:
  // path as AuthGroupFile resolved it (absolute). Nothing is read yet.
  explicit GroupFile(std::string path);

  // Blocking, thread-safe. Errors: those of ReloadingFile::current() (Apache
  // then denies the request and logs "Could not open group file").
  Result<Groups> groups_for(std::string_view user);

  const std::string& path() const { return file_.path(); }

 private:
  ReloadingFile<GroupTable> file_;
};

}  // namespace wsgid::authn
