// AuthUserFile: a password file written by Debian's htpasswd (apache2-utils) in
// every format it has, checked through libaprutil; malformed lines; reloads; and
// checks from many threads while the file is replaced.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/authn/htpasswd.h"
#include "temp_dir.h"

extern char** environ;

using namespace wsgid::authn;
using wsgid::authn::test::slurp;
using wsgid::authn::test::TempDir;

namespace {

// Runs htpasswd with args; the test fails (not skips) when it is missing:
// tools/dev installs apache2-utils.
void htpasswd(std::vector<std::string> args) {
  args.insert(args.begin(), "htpasswd");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);  // "Adding password..."
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "htpasswd", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  INFO("htpasswd is not on PATH: install apache2-utils (tools/dev test does)");
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("htpasswd " << args[1] << " ... failed");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// One user per format htpasswd writes; -C 4: the cheapest bcrypt cost.
std::string make_file(const TempDir& dir) {
  const std::string p = dir.file("htpasswd");
  htpasswd({"-c", "-b", "-B", "-C", "4", p, "bcrypt", "bcrypt-pw"});
  htpasswd({"-b", "-m", p, "md5", "md5-pw"});
  htpasswd({"-b", "-s", p, "sha", "sha-pw"});
  htpasswd({"-b", "-d", p, "crypt", "cryptpw8"});  // DES: 8 bytes count
  htpasswd({"-b", "-p", p, "plain", "plain-pw"});
  htpasswd({"-b", "-B", "-C", "4", p, "zo\xc3\xab", "p\xc3\xa4ss:w\xc3\xb6rd"});
  htpasswd({"-b", "-2", "-r", "1000", p, "sha256", "sha256-pw"});  // crypt(3) $5$
  htpasswd({"-b", "-5", "-r", "1000", p, "sha512", "sha512-pw"});  // crypt(3) $6$
  return p;
}

const char* name(Outcome o) {
  switch (o) {
    case Outcome::kGranted: return "Granted";
    case Outcome::kDenied: return "Denied";
    case Outcome::kNoSuchUser: return "NoSuchUser";
    case Outcome::kError: return "Error";
  }
  return "?";
}

}  // namespace

TEST_CASE("htpasswd formats, as Apache checks them on Linux") {
  TempDir dir;
  const std::string path = make_file(dir);
  INFO("file:\n" << slurp(path));
  UserFile users(path);
  struct Case {
    const char* user;
    const char* password;
    Outcome want;
  } cases[] = {
      {"bcrypt", "bcrypt-pw", Outcome::kGranted},
      {"bcrypt", "bcrypt-PW", Outcome::kDenied},
      {"bcrypt", "", Outcome::kDenied},
      {"md5", "md5-pw", Outcome::kGranted},
      {"md5", "md5-p", Outcome::kDenied},
      {"sha", "sha-pw", Outcome::kGranted},
      {"sha", "sha-pwx", Outcome::kDenied},
      {"crypt", "cryptpw8", Outcome::kGranted},
      {"crypt", "cryptpw8X", Outcome::kGranted},  // DES reads 8 bytes, in Apache too
      {"crypt", "cryptpw", Outcome::kDenied},
      {"sha256", "sha256-pw", Outcome::kGranted},
      {"sha256", "sha512-pw", Outcome::kDenied},
      {"sha512", "sha512-pw", Outcome::kGranted},
      {"sha512", "sha256-pw", Outcome::kDenied},
      // Plain text is for Windows and NetWare: on Linux apr_password_validate
      // hands it to crypt(3), so even the right password is refused.
      {"plain", "plain-pw", Outcome::kDenied},
      {"zo\xc3\xab", "p\xc3\xa4ss:w\xc3\xb6rd", Outcome::kGranted},
      {"zo\xc3\xab", "p\xc3\xa4ss", Outcome::kDenied},
      {"zo\xeb", "p\xc3\xa4ss:w\xc3\xb6rd", Outcome::kNoSuchUser},  // Latin-1 is other bytes
      {"BCRYPT", "bcrypt-pw", Outcome::kNoSuchUser},                 // users are case-sensitive
      {"nobody", "x", Outcome::kNoSuchUser},
      {"", "", Outcome::kNoSuchUser},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.user));
    CAPTURE(std::string(c.password));
    Verdict v = users.check(c.user, c.password);
    CHECK(std::string(name(v.outcome)) == name(c.want));
    CHECK(v.error.empty());
  }
  // A NUL would let the C API compare only "md5-pw".
  CHECK(users.check("md5", std::string("md5-pw\0x", 8)).outcome == Outcome::kDenied);
}

TEST_CASE("the diagnostics of a load go to the check that loaded it") {
  TempDir dir;
  const std::string path = make_file(dir);
  UserFile users(path);
  Verdict first = users.check("md5", "md5-pw");
  CHECK(first.outcome == Outcome::kGranted);
  REQUIRE(first.warnings.size() == 1);
  CHECK(first.warnings[0] == path +
                                 ":5: hash of user 'plain' is in no format Apache checks on "
                                 "this system (a plain-text password from htpasswd -p?); it "
                                 "never matches");
  CHECK(users.check("md5", "md5-pw").warnings.empty());  // not loaded again
}

TEST_CASE("malformed lines") {
  TempDir dir;
  const std::string path = make_file(dir);
  const std::string good = slurp(path);
  const std::string md5_line = good.substr(good.find("md5:"), good.find('\n', good.find("md5:")) -
                                                                  good.find("md5:") + 1);
  // Lines 9 onward: what a hand-edited file holds.
  dir.write("htpasswd", good +
                            "# a comment\n"                         // 9
                            "\n"                                    // 10
                            "nocolon\n"                             // 11
                            "emptyhash:\n"                          // 12
                            ":$apr1$abc$def\n"                      // 13
                            "nocolon:$apr1$x$y\n"                   // 14: the first entry wins
                            + md5_line +                            // 15: md5 again: ignored
                            "  spaced:" + md5_line.substr(4, md5_line.size() - 5) + "  \n"  // 16
                            "cont:\\\n" + md5_line.substr(4) +      // 17-18: continued
                            "double::" + md5_line.substr(4));       // 19
  UserFile users(path);
  Verdict v = users.check("md5", "md5-pw");
  CHECK(v.outcome == Outcome::kGranted);
  const std::vector<std::string> want = {
      path + ":5: hash of user 'plain' is in no format Apache checks on this system (a "
             "plain-text password from htpasswd -p?); it never matches",
      path + ":11: no ':' after the user name 'nocolon'; user 'nocolon' cannot log in",
      path + ":12: empty password hash for user 'emptyhash'; user 'emptyhash' cannot log in",
      path + ":13: empty user name; line ignored",
      path + ":14: user 'nocolon' already has an entry on line 11, which wins (as in Apache)",
      path + ":15: user 'md5' already has an entry on line 2, which wins (as in Apache)",
  };
  CHECK(v.warnings == want);

  struct Case {
    const char* user;
    const char* password;
    Outcome want;
    std::string error;
  } cases[] = {
      {"nocolon", "x", Outcome::kError, want[1]},
      {"emptyhash", "", Outcome::kError, want[2]},
      {"spaced", "md5-pw", Outcome::kGranted, ""},  // the line is trimmed, as by Apache
      {"cont", "md5-pw", Outcome::kGranted, ""},    // a backslash continues the line
      {"double", "md5-pw", Outcome::kGranted, ""},  // "::" is one separator (ap_getword)
      {"bcrypt", "bcrypt-pw", Outcome::kGranted, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.user));
    Verdict r = users.check(c.user, c.password);
    CHECK(std::string(name(r.outcome)) == name(c.want));
    CHECK(r.error == c.error);
  }
}

TEST_CASE("a line too long for Apache's buffer ends the file") {
  TempDir dir;
  const std::string path = make_file(dir);
  const std::string good = slurp(path);
  dir.write("htpasswd", "x:" + std::string(9000, 'a') + "\n" + good);
  UserFile users(path);
  Verdict v = users.check("md5", "md5-pw");
  CHECK(v.outcome == Outcome::kNoSuchUser);
  CHECK(v.warnings == std::vector<std::string>{
                          path + ":1: line longer than 8190 bytes; Apache stops reading the "
                                 "file here, so the lines after it are ignored"});
}

TEST_CASE("a changed file takes effect at the next check") {
  TempDir dir;
  const std::string path = make_file(dir);
  UserFile users(path);
  CHECK(users.check("md5", "md5-pw").outcome == Outcome::kGranted);

  htpasswd({"-b", "-m", path, "md5", "new-pw"});  // rewritten in place
  CHECK(users.check("md5", "md5-pw").outcome == Outcome::kDenied);
  CHECK(users.check("md5", "new-pw").outcome == Outcome::kGranted);

  htpasswd({"-D", path, "md5"});
  CHECK(users.check("md5", "new-pw").outcome == Outcome::kNoSuchUser);

  // Another file renamed over it (another inode).
  const std::string other = dir.file("other");
  htpasswd({"-c", "-b", "-m", other, "md5", "third-pw"});
  std::filesystem::rename(other, path);
  CHECK(users.check("md5", "third-pw").outcome == Outcome::kGranted);

  // Gone: an error at once, never the old copy.
  std::filesystem::remove(path);
  Verdict v = users.check("md5", "third-pw");
  CHECK(v.outcome == Outcome::kError);
  CHECK(v.error == "stat(" + path + "): No such file or directory");

  std::filesystem::create_directory(path);
  v = users.check("md5", "third-pw");
  CHECK(v.outcome == Outcome::kError);
  CHECK(v.error == path + ": not a regular file");
}

TEST_CASE("checks from many threads while the file is replaced") {
  TempDir dir;
  // Two files that grant the same user with different hashes, renamed in turn
  // over the checked path: every check must be Granted, whichever it reads.
  const std::string path = dir.file("htpasswd");
  const std::string a = dir.file("a"), b = dir.file("b");
  htpasswd({"-c", "-b", "-B", "-C", "4", a, "alice", "pw"});
  htpasswd({"-b", "-m", a, "bob", "bob-pw"});
  htpasswd({"-c", "-b", "-m", b, "alice", "pw"});
  htpasswd({"-b", "-s", b, "bob", "bob-pw"});
  std::filesystem::copy_file(a, path);
  UserFile users(path);

  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, done{0};
  std::thread swapper([&] {
    for (int i = 0; !stop; ++i) {
      const std::string tmp = dir.file("tmp");
      std::filesystem::copy_file(i % 2 ? a : b, tmp,
                                 std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(tmp, path);
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::vector<std::thread> checkers;
  for (int t = 0; t < 6; ++t) {
    checkers.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const bool alice = (i + t) % 2 == 0;
        Verdict v = alice ? users.check("alice", "pw") : users.check("bob", "bob-pw");
        if (v.outcome != Outcome::kGranted) ++bad;
        Verdict w = users.check("alice", "wrong");
        if (w.outcome != Outcome::kDenied) ++bad;
        ++done;
      }
    });
  }
  for (std::thread& t : checkers) t.join();
  stop = true;
  swapper.join();
  CHECK(done == 360);
  CHECK(bad == 0);
}
