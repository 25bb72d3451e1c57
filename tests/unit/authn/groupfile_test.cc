// AuthGroupFile as mod_authz_groupfile reads it: group lines, quoting, several
// lines per group, diagnostics, reloads.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "supervisor/authn/groupfile.h"
#include "temp_dir.h"

using namespace wsgid::authn;
using wsgid::authn::test::TempDir;

using Names = std::vector<std::string>;

TEST_CASE("groups of a user") {
  const std::string text =
      "# staff groups\n"                       // 1
      "admins: alice bob\n"                    // 2
      "editors:carol  alice\n"                 // 3
      "admins : dave\n"                        // 4: same group, more members
      "  viewers :\talice 'John Smith' \"x y\"\n"  // 5
      "empty:\n"                               // 6
      "Admins: erin\n"                         // 7: another name (case kept)
      "big: a b \\\n"                          // 8-9: continued
      "   c d\n"
      "nocolon alice\n"                        // 10
      ": alice\n"                              // 11
      "dup: alice alice\n";                    // 12
  GroupTable t = GroupTable::parse("/etc/groups", text);
  struct Case {
    std::string user;
    Names groups;
  } cases[] = {
      {"alice", {"admins", "editors", "viewers", "dup"}},
      {"bob", {"admins"}},
      {"dave", {"admins"}},
      {"erin", {"Admins"}},
      {"John Smith", {"viewers"}},
      {"x y", {"viewers"}},
      {"John", {}},
      {"c", {"big"}},
      {"d", {"big"}},
      {"ALICE", {}},  // users compare byte for byte
      {"nocolon", {}},
      {"", {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.user);
    CHECK(t.groups_of(c.user) == c.groups);
  }
  CHECK(t.diagnostics() == Names{"/etc/groups:10: no ':' after the group name; line ignored",
                                 "/etc/groups:11: empty group name; line ignored"});
}

TEST_CASE("group names compare ignoring case, as Apache's apr_table does") {
  Groups g;
  g.names = {"admins", "Editors"};
  struct Case {
    const char* group;
    bool in;
  } cases[] = {
      {"admins", true}, {"ADMINS", true}, {"editors", true}, {"Editors", true},
      {"admin", false}, {"admins ", false}, {"", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.group);
    CHECK(g.contains(c.group) == c.in);
  }
}

TEST_CASE("GroupFile reads the file and reloads it when it changes") {
  TempDir dir;
  const std::string path = dir.write("groups", "admins: alice\nbroken\n");
  GroupFile groups(path);

  auto r = groups.groups_for("alice");
  REQUIRE(r.is_ok());
  CHECK(r->names == Names{"admins"});
  CHECK(r->warnings == Names{path + ":2: no ':' after the group name; line ignored"});

  r = groups.groups_for("alice");
  REQUIRE(r.is_ok());
  CHECK(r->warnings.empty());  // not loaded again

  dir.write("groups", "admins: bob\nusers: alice\n");
  r = groups.groups_for("alice");
  REQUIRE(r.is_ok());
  CHECK(r->names == Names{"users"});
  CHECK(r->warnings.empty());

  std::filesystem::remove(path);
  r = groups.groups_for("alice");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message() == "stat(" + path + "): No such file or directory");
}
