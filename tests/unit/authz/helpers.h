// Test helpers: a section from text (one directive a line, words split on
// blanks, "<Name args>" opens, "</Name>" closes) and requests.
#pragma once

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "supervisor/authz/policy.h"

namespace authz_test {

using namespace wsgid::authz;

inline std::vector<Line> lines_of(const std::string& text) {
  std::vector<Line> out;
  std::istringstream in(text);
  std::string raw;
  while (std::getline(in, raw)) {
    std::istringstream words(raw);
    std::string w;
    Line l;
    while (words >> w) {
      if (l.name.empty()) {
        l.name = w;
      } else {
        l.args.push_back(w);
      }
    }
    if (l.name.empty()) continue;
    if (l.name[0] == '<') {  // "<Limit GET POST>": drop the '>'
      std::string& last = l.args.empty() ? l.name : l.args.back();
      if (!last.empty() && last.back() == '>') last.pop_back();
      if (!l.args.empty() && l.args.back().empty()) l.args.pop_back();
    }
    out.push_back(std::move(l));
  }
  return out;
}

inline wsgid::Result<SectionPolicy> section(const std::string& text,
                                            std::string label = "<Directory /srv>") {
  return build_section(std::move(label), lines_of(text));
}

inline SectionPolicy good_section(const std::string& text, std::string label = "<Directory /srv>") {
  wsgid::Result<SectionPolicy> s = section(text, std::move(label));
  INFO(text);
  REQUIRE_MESSAGE(s.is_ok(), (s.is_ok() ? std::string() : s.status().message()));
  return std::move(s).value();
}

// alice is in Admins and staff (AuthGroupFile) and in wsgi-admins (the
// WSGIAuthGroupScript); bob is in no group; the lookup fails for "broken".
inline wsgid::Result<std::vector<std::string>> groups(GroupSource source, std::string_view user) {
  if (user == "broken") return wsgid::Status::error("Could not open group file");
  if (user != "alice") return std::vector<std::string>{};
  if (source == GroupSource::kGroupFile) return std::vector<std::string>{"Admins", "staff"};
  return std::vector<std::string>{"wsgi-admins"};
}

inline Request request(const char* client, const char* method = "GET", const char* user = nullptr,
                       const char* server = "192.0.2.100") {
  Request r;
  r.client = *Address::parse(client);
  r.server = *Address::parse(server);
  r.method = method;
  if (user != nullptr) r.user = user;
  r.groups = groups;
  return r;
}

}  // namespace authz_test
