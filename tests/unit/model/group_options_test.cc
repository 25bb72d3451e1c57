// The WSGIDaemonProcess option table (model/group_options.h): every row parses
// a value as the config writes it into its member and carries it through the
// JSON unchanged; values outside each option's rule are refused.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "model/group_options.h"

using namespace wsgid;
using nlohmann::json;

namespace {

// Values as a config writes them; every option accepts at least one, so a row
// whose text form does not fit its member (the store refuses it) is caught.
const char* const kCandidates[] = {"3", "1024", "8192", "65536", "On", "022", "0.25",
                                   "web",  "a,b", "/srv/a:/srv/b"};

}  // namespace

TEST_CASE("every option accepts a value written as in the config and keeps it through JSON") {
  std::vector<std::string_view> names = model::group_option_names();
  CHECK(names.size() > 40);
  json defaults = json::object();
  model::write_group_options(model::GroupSpec{}, &defaults);
  for (std::string_view name : names) {
    CAPTURE(name);
    const std::string key(name);
    CHECK(model::group_option_expected(name) != nullptr);
    bool stored = false;
    for (const char* v : kCandidates) {
      model::GroupSpec g;
      g.name = "g";
      if (!model::set_group_option(name, v, &g)) continue;
      json j = json::object();
      model::write_group_options(g, &j);
      if (j.at(key) == defaults.at(key)) continue;  // the default itself: try another
      stored = true;
      model::GroupSpec back;
      back.name = "g";
      CHECK_FALSE(model::read_group_options(j, &back).has_value());
      CHECK(model::same_group_options(g, back));
      break;
    }
    CHECK(stored);
  }
  CHECK(defaults.size() == names.size());
}

TEST_CASE("values are parsed by each option's rule") {
  struct Case {
    const char* key;
    const char* value;
    bool ok;
  };
  const Case cases[] = {
      {"processes", "1", true},        {"processes", "0", false},
      {"processes", "two", false},     {"threads", "0", true},
      {"threads", "65534", false},     {"cpu-priority", "-20", true},
      {"cpu-priority", "21", false},   {"send-buffer-size", "0", true},
      {"send-buffer-size", "511", false}, {"send-buffer-size", "512", true},
      {"header-buffer-size", "8191", false}, {"umask", "0027", true},
      {"umask", "9", false},           {"umask", "00027", false},
      {"server-metrics", "off", true}, {"server-metrics", "yes", false},
      {"switch-interval", "0", false}, {"switch-interval", "0.005", true},
      {"request-timeout", "1.5", false}, {"request-timeout", "60", true},
      {"supplementary-groups", "a,,b", false}, {"supplementary-groups", "a,b", true},
      {"python-path", "/a::/b", true}, {"display-name", "", false},
      {"no-such-option", "1", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.value);
    model::GroupSpec g;
    CHECK(model::set_group_option(c.key, c.value, &g) == c.ok);
  }
}

TEST_CASE("each value lands where the rest of wsgid reads it") {
  model::GroupSpec g;
  REQUIRE(model::set_group_option("umask", "027", &g));
  CHECK(*g.umask == 027);
  REQUIRE(model::set_group_option("response-flush-delay", "250", &g));
  CHECK(g.response_flush_delay == doctest::Approx(0.25));
  REQUIRE(model::set_group_option("python-path", "/a::/b", &g));
  CHECK(g.python_path == std::vector<std::string>{"/a", "/b"});
  REQUIRE(model::set_group_option("server-metrics", "ON", &g));
  CHECK(g.server_metrics);
  REQUIRE(model::set_group_option("switch-interval", "0.005", &g));
  CHECK(*g.switch_interval == doctest::Approx(0.005));
}

TEST_CASE("only options wsgid keeps without acting on them have a reason") {
  CHECK(model::group_option_no_effect("chroot") != nullptr);
  CHECK(model::group_option_no_effect("eviction-timeout") != nullptr);
  CHECK(model::group_option_no_effect("processes") == nullptr);
  CHECK(model::group_option_no_effect("no-such-option") == nullptr);
}
