// The README's table of Apache directives against the parser's own tables: every
// directive wsgid implements, refuses or warns about has its row, with its fate
// and (for the Apache directives wsgid does not implement) the reason the
// parser gives; a row for a name the parser does not know fails too.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "supervisor/config/apache_directives.h"
#include "supervisor/config/directives.h"

namespace cd = wsgid::config::detail;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The rows "| `NAME` | FATE | REASON |" of the section headed "### Apache directives".
std::map<std::string, std::pair<std::string, std::string>> readme_rows(const std::string& text) {
  std::map<std::string, std::pair<std::string, std::string>> rows;
  size_t at = text.find("\n### Apache directives");
  if (at == std::string::npos) return rows;
  std::istringstream in(text.substr(at + 1));
  std::string line;
  std::getline(in, line);  // the heading
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) break;  // the next heading
    if (line.rfind("| `", 0) != 0) continue;
    size_t close = line.find("` |", 3);
    if (close == std::string::npos) continue;
    std::string name = line.substr(3, close - 3);
    std::string rest = line.substr(close + 4);
    size_t bar = rest.find(" | ");
    std::string fate = rest.substr(0, bar);
    std::string reason = bar == std::string::npos ? "" : rest.substr(bar + 3);
    if (reason.size() >= 2 && reason.substr(reason.size() - 2) == " |")
      reason.resize(reason.size() - 2);
    rows[name] = {fate, reason};
  }
  return rows;
}

}  // namespace

TEST_CASE("the README's table of Apache directives is the parser's") {
  std::string text = read_file(WSGID_SOURCE_DIR "/README.md");
  REQUIRE(!text.empty());
  auto rows = readme_rows(text);
  CHECK(rows.size() > 100);
  std::vector<std::string> problems;
  std::set<std::string> known;
  for (const cd::ApacheRow& r : cd::apache_rows()) {
    known.insert(r.name);
    std::string want = "| `" + r.name + "` | " + std::string(r.fate) + " | " +
                       std::string(r.reason) + " |";
    auto it = rows.find(r.name);
    if (it == rows.end() || it->second.first != r.fate || it->second.second != r.reason)
      problems.push_back("want the row: " + want);
  }
  // Apache's own directives that wsgid implements (mod_wsgi's have their own pages).
  for (const std::string& n : cd::directive_names()) {
    const cd::DirectiveInfo* info = cd::find_directive(n);
    if (n.rfind("WSGI", 0) == 0 || !info || !info->handler) continue;
    known.insert(n);
    auto it = rows.find(n);
    if (it == rows.end() || it->second.first != "implemented")
      problems.push_back("want a row: | `" + n + "` | implemented | (what it does) |");
  }
  for (const auto& [name, row] : rows)
    if (!known.count(name)) problems.push_back("the parser knows no '" + name + "'");
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  CHECK_MESSAGE(problems.empty(), all);
}
