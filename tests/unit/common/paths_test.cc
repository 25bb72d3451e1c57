#include <doctest/doctest.h>

#include <string_view>

#include "common/paths.h"

TEST_CASE("directory_of is the part before the last slash") {
  struct Case { std::string_view path, if_none, dir; };
  const Case cases[] = {
      {"/etc/wsgid/wsgid.conf", "", "/etc/wsgid"},
      {"/wsgid.conf", "", "/"},
      {"/", "", "/"},
      {"conf/wsgid.conf", "", "conf"},
      {"a/b/", "", "a/b"},
      {"wsgid.conf", "", ""},                   // no directory part
      {"wsgid.conf", ".", "."},                 // ... unless the caller names one
      {"", ".", "."},
      {"/srv/app.wsgi", ".", "/srv"},           // if_none only when there is no '/'
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    CAPTURE(c.if_none);
    CHECK(wsgid::directory_of(c.path, c.if_none) == c.dir);
  }
}

TEST_CASE("base_name is the part after the last slash") {
  struct Case { std::string_view path, base; };
  const Case cases[] = {
      {"/srv/app.wsgi", "app.wsgi"},
      {"app.wsgi", "app.wsgi"},
      {"/app.wsgi", "app.wsgi"},
      {"a/b/", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    CHECK(wsgid::base_name(c.path) == c.base);
  }
}
