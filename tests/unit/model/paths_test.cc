// The path rules (model/paths.h): group sockets under the runtime dir or
// WSGISocketPrefix, relative prefixes against ServerRoot, the default runtime dir.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include "model/paths.h"

using namespace wsgid;
using namespace wsgid::model;

TEST_CASE("group socket paths") {
  model::Config c;
  c.file = "/etc/wsgid/wsgid.conf";
  CHECK(group_socket_path(c, "/run/wsgid", "site1") == "/run/wsgid/wsgi.site1.sock");
  c.socket_prefix = "/var/run/wsgi";
  CHECK(group_socket_path(c, "/run/wsgid", "site1") == "/var/run/wsgi.site1.sock");
  c.socket_prefix = "run/wsgi";
  CHECK(group_socket_path(c, "/run/wsgid", "a") == "/etc/wsgid/run/wsgi.a.sock");
  c.server_root = "/srv/root";
  CHECK(group_socket_path(c, "/run/wsgid", "a") == "/srv/root/run/wsgi.a.sock");
}

TEST_CASE("the default runtime dir") {
  if (geteuid() == 0) {
    CHECK(default_runtime_dir() == "/run/wsgid");
  } else {
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    CHECK(default_runtime_dir() == "/run/user/1000/wsgid");
  }
}
