// The repository's documents against the tree: every path that
// docs/architecture.md and docs/decisions.md cite in `backticks` (a relative path
// with at least one '/', such as `worker/request_loop.cc` or `supervisor/rewrite/`)
// exists in the source tree, except the few a document names as absent on
// purpose (decision 1: "not `supervisor/common/`"), which must stay absent. Rename
// or remove a file a document walks through without updating the document and
// this test fails, naming the path.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The repository paths a Markdown text cites: the inline code spans that look
// like a relative path with a '/'. Fenced code blocks are skipped (they show
// commands and process trees, not citations).
std::vector<std::string> cited_paths(const std::string& markdown) {
  static const std::regex kPath(R"(^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$)");
  std::vector<std::string> out;
  std::istringstream in(markdown);
  std::string line;
  bool fenced = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    for (size_t open = line.find('`'); open != std::string::npos;) {
      size_t close = line.find('`', open + 1);
      if (close == std::string::npos) break;
      std::string span = line.substr(open + 1, close - open - 1);
      if (span.find('/') != std::string::npos && std::regex_match(span, kPath)) out.push_back(span);
      open = line.find('`', close + 1);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("cited_paths: what counts as a cited path") {
  struct Row {
    const char* text;
    std::vector<std::string> paths;
  };
  const Row rows[] = {
      {"see `worker/request_loop.cc` and `model/`", {"worker/request_loop.cc", "model/"}},
      {"`Status` and `Result<T>` (`common/status.h`)", {"common/status.h"}},
      {"`key=value`, `%{GROUP}`, `{\"a\", &B::c}`", {}},
      {"`Order`/`Allow`/`Deny`", {}},
      {"an absolute path `/run/wsgid/control.sock` is not the repository's", {}},
      {"`wsgictl status GROUP` is a command", {}},
      {"```\nworker/worker_main.cc in a fence\n```\n`protocol/frame.h`", {"protocol/frame.h"}},
      {"an unclosed `worker/x.cc", {}},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    CHECK(cited_paths(r.text) == r.paths);
  }
}

TEST_CASE("every path the documents cite exists") {
  struct Doc {
    const char* path;
    size_t min_citations;  // a document that walks the tree cites at least this many
    std::vector<std::string> absent;  // cited as what the tree does not have
  };
  const Doc docs[] = {
      {"docs/architecture.md", 150, {}},
      {"docs/decisions.md", 10, {"supervisor/common/"}},
  };
  const std::filesystem::path root = WSGID_SOURCE_ROOT;
  for (const Doc& d : docs) {
    const std::string text = read_file(root / d.path);
    REQUIRE_MESSAGE(!text.empty(), (std::string(d.path) + " is missing or empty"));
    const std::vector<std::string> paths = cited_paths(text);
    const std::string doc = d.path;
    INFO(doc);
    CHECK(paths.size() >= d.min_citations);
    for (const std::string& p : paths) {
      INFO((doc + " cites " + p));
      const bool absent = std::find(d.absent.begin(), d.absent.end(), p) != d.absent.end();
      CHECK(std::filesystem::exists(root / p) != absent);
    }
  }
}
