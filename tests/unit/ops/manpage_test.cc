// The man pages against the code: every directive, section and WSGIDaemonProcess
// option the config parser knows (its own tables, supervisor/config/directives.h
// and model/group_options.h) has its entry in docs/man/wsgid.conf.5, in the right
// section, with the context the table gives it; and every master signal
// (supervisor/master/signals.h) is in wsgid.8's SIGNALS. Nothing here is a copy
// of a list: add a directive or option to the parser without documenting it and
// this test fails, naming it.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/group_options.h"
#include "supervisor/config/directives.h"
#include "supervisor/master/signals.h"

namespace cd = wsgid::config::detail;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
  return s;
}

// roff source -> text: the escapes the pages use.
std::string plain(std::string s) {
  s = replace_all(s, "\\-", "-");
  s = replace_all(s, "\\&", "");
  s = replace_all(s, "\\(dq", "\"");
  for (const char* f : {"\\fR", "\\fP", "\\fB", "\\fI"}) s = replace_all(s, f, "");
  s = replace_all(s, "\\e", "\\");
  return s;
}

struct Entry {
  std::string section;  // the .SH it is under
  std::string name;     // first word of the .TP header, without a trailing '='
  std::string body;     // the text up to the next .TP/.SH/.SS, lines joined by '\n'
};

// The .TP entries of a man page.
std::vector<Entry> entries(const std::string& page) {
  std::vector<Entry> out;
  std::istringstream in(plain(page));
  std::string line, section;
  bool header_next = false;
  Entry* cur = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind(".SH ", 0) == 0) {
      section = line.substr(4);
      if (!section.empty() && section[0] == '"') section = section.substr(1, section.size() - 2);
      cur = nullptr;
      continue;
    }
    if (line.rfind(".SS ", 0) == 0) {
      cur = nullptr;
      continue;
    }
    if (line == ".TP") {
      header_next = true;
      cur = nullptr;
      continue;
    }
    if (header_next) {
      header_next = false;
      std::string h = line;
      size_t sp = h.find(' ');
      h = sp == std::string::npos ? "" : h.substr(sp + 1);  // drop the macro
      if (!h.empty() && h[0] == '"') h = h.substr(1);
      size_t end = h.find_first_of(" \"|");
      std::string name = h.substr(0, end);
      if (!name.empty() && name.back() == '=') name.pop_back();
      out.push_back({section, name, ""});
      cur = &out.back();
      continue;
    }
    if (cur) cur->body += line + "\n";
  }
  return out;
}

std::string contexts_text(unsigned c) {
  std::vector<std::string> parts;
  if (c & cd::kServer) parts.push_back("server");
  if (c & cd::kVHost) parts.push_back("virtual host");
  if (c & cd::kDir) parts.push_back("directory");
  if (c & cd::kInterp) parts.push_back("<WSGIInterpreterOptions>");
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s;
}

// word in text, not as part of a longer name. (A plain search: std::regex
// here, once per name over the whole page, took a minute under ASan.)
bool has_word(const std::string& text, const std::string& word) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    size_t end = p + word.size();
    if ((p == 0 || !name_char(text[p - 1])) && (end == text.size() || !name_char(text[end])))
      return true;
  }
  return false;
}

const char* const kDirectiveSections[] = {"WSGI DIRECTIVES", "SERVER DIRECTIVES"};
const char* const kNoEffectSection = "DIRECTIVES ACCEPTED WITHOUT EFFECT";
const char* const kOptionSection = "WSGIDAEMONPROCESS OPTIONS";

// Every way wsgid.conf.5 disagrees with the parser's tables, one line each.
std::vector<std::string> conf_page_problems(const std::string& page) {
  std::vector<std::string> problems;
  std::vector<Entry> es = entries(page);
  std::map<std::string, const Entry*> directive_entries, option_entries;
  for (const Entry& e : es) {
    bool directive_section = e.section == kNoEffectSection;
    for (const char* s : kDirectiveSections) directive_section |= e.section == s;
    if (directive_section) {
      if (!cd::find_directive(e.name))
        problems.push_back("entry " + e.name + " in " + e.section + " is no directive the parser knows");
      directive_entries[e.name] = &e;
    }
    if (e.section == kOptionSection) {
      if (!wsgid::model::group_option_expected(e.name))
        problems.push_back("entry " + e.name + "= in " + e.section +
                           " is no WSGIDaemonProcess option the parser knows");
      option_entries[e.name] = &e;
    }
  }
  for (const std::string& name : cd::directive_names()) {
    const cd::DirectiveInfo* info = cd::find_directive(name);
    auto it = directive_entries.find(name);
    if (it == directive_entries.end()) {
      problems.push_back("directive " + name + " has no entry");
      continue;
    }
    const Entry& e = *it->second;
    if (!info->handler && e.section != kNoEffectSection)
      problems.push_back("directive " + name + " has no effect but is documented in " + e.section);
    if (info->handler && e.section == kNoEffectSection)
      problems.push_back("directive " + name + " is implemented but documented in " + e.section);
    std::string ctx = "Context: " + contexts_text(info->contexts) + ".\n";
    if (e.body.find(ctx) == std::string::npos)
      problems.push_back("directive " + name + ": expected \"" + ctx.substr(0, ctx.size() - 1) + "\"");
    if (info->handler && e.body.find("Default: ") == std::string::npos)
      problems.push_back("directive " + name + " says no Default:");
  }
  for (std::string_view o : wsgid::model::group_option_names()) {
    std::string name(o);
    auto it = option_entries.find(name);
    if (it == option_entries.end()) {
      problems.push_back("option " + name + "= has no entry");
      continue;
    }
    if (it->second->body.find("Default: ") == std::string::npos)
      problems.push_back("option " + name + "= says no Default:");
  }
  // The Apache names skipped with a warning, the syntax-level directives and the
  // sections: named somewhere in the page.
  std::string text = plain(page);
  std::set<std::string> table;
  for (const std::string& n : cd::directive_names()) table.insert(n);
  for (std::string_view n : cd::directive_suggestions())
    if (!table.count(std::string(n)) && !has_word(text, std::string(n)))
      problems.push_back("name " + std::string(n) + " is not in the page");
  for (std::string_view n : cd::section_suggestions())
    if (text.find("<" + std::string(n) + ">") == std::string::npos &&
        text.find("<" + std::string(n) + " ") == std::string::npos)
      problems.push_back("section <" + std::string(n) + "> is not in the page");
  return problems;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

const std::string kManDir = WSGID_MAN_DIR;

}  // namespace

TEST_CASE("wsgid.conf.5 documents every directive, section and option the parser knows") {
  std::string page = read_file(kManDir + "/wsgid.conf.5");
  REQUIRE(!page.empty());
  std::vector<std::string> problems = conf_page_problems(page);
  CHECK_MESSAGE(problems.empty(), join(problems));
  // The tables are not empty (the test would pass on nothing).
  CHECK(cd::directive_names().size() > 60);
  CHECK(wsgid::model::group_option_names().size() > 40);
}

TEST_CASE("the checker finds what is missing or misplaced") {
  std::string page = read_file(kManDir + "/wsgid.conf.5");
  REQUIRE(!page.empty());
  struct Case {
    const char* what;
    std::string from, to;
    std::string problem;
  };
  const Case cases[] = {
      {"an option entry removed", ".TP\n.BI maximum\\-requests= n\n", "",
       "option maximum-requests= has no entry"},
      {"a directive entry renamed", ".BI \"WSGICallableObject \" name", ".BI \"WSGICallable \" name",
       "entry WSGICallable in WSGI DIRECTIVES is no directive the parser knows"},
      {"a wrong context", "Context: server.\n.br\nDefault: Off.\n.br\nWith On, a script alias",
       "Context: server, virtual host.\n.br\nDefault: Off.\n.br\nWith On, a script alias",
       "directive WSGIRestrictEmbedded: expected \"Context: server.\""},
      {"a no-effect directive listed as implemented", ".SH DIRECTIVES ACCEPTED WITHOUT EFFECT",
       ".SH SERVER DIRECTIVES",
       "directive WSGISocketRotation has no effect but is documented in SERVER DIRECTIVES"},
      {"an Apache name dropped", "LoadFile, LoadModule,", "LoadFile,",
       "name LoadModule is not in the page"},
      {"a section dropped", "<AuthnProviderAlias>, ", "",
       "section <AuthnProviderAlias> is not in the page"},
  };
  for (const Case& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    std::string mutated = page;
    size_t p = mutated.find(c.from);
    REQUIRE(p != std::string::npos);
    mutated.replace(p, c.from.size(), c.to);
    std::vector<std::string> problems = conf_page_problems(mutated);
    bool found = false;
    for (const auto& x : problems) found |= x == c.problem;
    CHECK_MESSAGE(found, join(problems));
  }
}

TEST_CASE("wsgid.8 names every master signal in SIGNALS") {
  std::string page = plain(read_file(kManDir + "/wsgid.8"));
  REQUIRE(!page.empty());
  size_t start = page.find("\n.SH SIGNALS\n");
  REQUIRE(start != std::string::npos);
  size_t end = page.find("\n.SH ", start + 1);
  std::string signals = page.substr(start, end - start);
  REQUIRE(!wsgid::master::master_signals().empty());
  for (const auto& s : wsgid::master::master_signals()) {
    CAPTURE(s.name);
    CHECK(has_word(signals, s.name));
  }
}
