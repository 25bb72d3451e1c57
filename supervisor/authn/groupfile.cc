#include "supervisor/authn/groupfile.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "supervisor/authn/cfg_lines.h"

namespace wsgid::authn {
namespace {

// mod_authz_groupfile reads lines into a varbuf of at most 16 MiB.
constexpr size_t kMaxLine = 16 * 1024 * 1024;

}  // namespace

GroupTable GroupTable::parse(std::string_view path, std::string_view text) {
  GroupTable t;
  const std::string where(path);
  auto at = [&](size_t line) { return where + ":" + std::to_string(line) + ": "; };
  CfgLines lines = split_cfg_lines(text, kMaxLine);
  for (const CfgLine& l : lines.lines) {
    std::string_view rest = l.text;
    if (rest.find(':') == std::string_view::npos) {
      t.diagnostics_.push_back(at(l.number) + "no ':' after the group name; line ignored");
      continue;
    }
    std::string_view group = cfg_getword(&rest, ':');
    while (!group.empty() && std::isspace(static_cast<unsigned char>(group.back()))) {
      group.remove_suffix(1);
    }
    if (group.empty()) {
      t.diagnostics_.push_back(at(l.number) + "empty group name; line ignored");
      continue;
    }
    while (!rest.empty()) {
      std::string user = cfg_getword_conf(&rest);
      std::vector<std::string>& groups = t.groups_by_user_[user];
      if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
        groups.emplace_back(group);
      }
    }
  }
  if (lines.too_long_at != 0) {
    t.diagnostics_.push_back(at(lines.too_long_at) +
                             "line longer than 16 MiB; Apache stops reading the file here, "
                             "so the lines after it are ignored");
  }
  return t;
}

std::vector<std::string> GroupTable::groups_of(std::string_view user) const {
  auto it = groups_by_user_.find(user);
  return it == groups_by_user_.end() ? std::vector<std::string>{} : it->second;
}

bool Groups::contains(std::string_view group) const {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return iequals(n, group); });
}

GroupFile::GroupFile(std::string path) : file_(std::move(path), &GroupTable::parse) {}

Result<Groups> GroupFile::groups_for(std::string_view user) {
  auto current = file_.current();
  if (!current) return current.status();
  Groups g;
  g.names = current->table->groups_of(user);
  if (current->reloaded) g.warnings = current->table->diagnostics();
  return g;
}

}  // namespace wsgid::authn
