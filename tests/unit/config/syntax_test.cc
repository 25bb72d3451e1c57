// Tests of the Apache syntax layer (syntax.h): lines, continuation, comments,
// words and quotes, sections, <IfModule>/<IfDefine>/<IfVersion>, Define,
// UnDefine and ${NAME}, ServerRoot, Include, typographic quotes, limits. Every diagnostic is checked with its exact text and position.
// Runs with the working directory tests/data/config (fixtures in syntax/inc/).
#include "supervisor/config/syntax.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace wsgid::config {
namespace {

// The tree as one line: `Name a "b"; <Sec x>{Child y}`; quoted args in "".
std::string dump(const std::vector<Directive>& ds) {
  std::string out;
  for (const Directive& d : ds) {
    if (!out.empty()) out += "; ";
    out += d.is_section ? "<" + d.name : d.name;
    for (const Arg& a : d.args) out += a.quoted ? " \"" + a.text + "\"" : " " + a.text;
    if (d.is_section) out += ">{" + dump(d.children) + "}";
  }
  return out;
}

// Every diagnostic as "line:col: severity: message" (file named when not `file`).
std::string dump(const Diagnostics& diags, const std::string& file = "t.conf") {
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    if (d.loc.file != file) out += d.loc.file + ":";
    out += std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": ";
    out += d.severity == Severity::kError ? "error: " : d.severity == Severity::kWarning ? "warning: " : "note: ";
    out += d.message + "\n";
  }
  return out;
}

struct Case {
  const char* text;
  const char* tree;
  const char* diags;
};

void run(const Case& c, const SyntaxOptions& options = {}) {
  std::string text = c.text;
  CAPTURE(text);
  Diagnostics diags;
  auto tree = read_config_text("t.conf", c.text, options, &diags);
  CHECK(dump(tree) == c.tree);
  CHECK(dump(diags) == c.diags);
}

TEST_CASE("syntax: lines, comments, continuation") {
  const Case cases[] = {
      {"", "", ""},
      {"\n\n   \n\t\n", "", ""},
      {"Listen 80\n", "Listen 80", ""},
      {"Listen 80", "Listen 80", ""},                       // no final newline
      {"  \tListen   80  \n", "Listen 80", ""},            // indentation, trailing blanks
      {"# comment\n  # indented comment\nA b\n", "A b", ""},
      {"A b # not a comment\n", "A b # not a comment",
       "1:5: warning: '#' starts a comment only at the beginning of a line; here it is an argument\n"},
      {"A b \"#quoted\"\n", "A b \"#quoted\"", ""},
      {"A b\\\n c\n", "A b c", ""},                          // continuation keeps the next line's blanks
      {"A b\\\nc\n", "A bc", ""},                            // joined as is, as httpd
      {"A \\\n  b \\\n  c\nD\n", "A b c; D", ""},
      {"A b\r\nC d\r\n", "A b; C d", ""},                   // CRLF
      {"A b\\\r\n c\r\n", "A b c", ""},                      // continuation before CRLF
      {"A b\\ \nC\n", "A b\\; C",
       "1:4: warning: backslash followed by white space does not continue the line\n"},
      {"# a comment\\\nA b\nC\n", "C",
       "1:12: warning: comment ends with a backslash: the next line is part of the comment\n"},
      {"A b\\", "A b", ""},                                  // backslash at the end of the file
      {"\xEF\xBB\xBFListen 80\n", "Listen 80", ""},          // a UTF-8 BOM
  };
  for (const Case& c : cases) run(c);
}

TEST_CASE("syntax: words and quotes follow ap_getword_conf") {
  const Case cases[] = {
      {"A \"b c\" 'd e'\n", "A \"b c\" \"d e\"", ""},
      {"A \"\" ''\n", "A \"\" \"\"", ""},
      {"A \"a\\\"b\" 'a\\'b'\n", "A \"a\"b\" \"a'b\"", ""},  // escaped quote
      {"A \"a\\\\b\"\n", "A \"a\\b\"", ""},                   // escaped backslash
      {"A \"a\\nb\"\n", "A \"a\\nb\"", ""},                   // other escapes stay
      {"A 'it\"s'\n", "A \"it\"s\"", ""},                     // the other quote is plain
      {"A a\\\\b\n", "A a\\b", ""},                           // unquoted: \\ -> \ as httpd
      {"A a\\\"b\n", "A a\\\"b", ""},
      {"A key=\"quoted value\"\n", "A key=\"quoted value\"", ""},  // quotes only at a word's start
      {"A \"ab\"cd\n", "A \"ab\" cd", ""},                      // a closing quote ends the word
      {"A\t\"b\tc\"\td\n", "A \"b\tc\" d", ""},
      {"A \"b c\n", "A \"b c\"",
       "1:3: error: unterminated quoted argument: no closing \"\n"},
      {"A x 'b c\n", "A x \"b c\"",
       "1:5: error: unterminated quoted argument: no closing '\n"},
  };
  for (const Case& c : cases) run(c);
}

TEST_CASE("syntax: positions of names and arguments") {
  Diagnostics diags;
  auto tree = read_config_text("t.conf",
                               "WSGIDaemonProcess site1 \"a b\" \\\n   processes=2\n"
                               "<Location /é>\n\tX ünï \"q\"\n</Location>\n",
                               {}, &diags);
  REQUIRE(tree.size() == 2);
  const Directive& d = tree[0];
  CHECK(d.loc.file == "t.conf");
  CHECK(d.loc.line == 1);
  CHECK(d.loc.col == 1);
  CHECK(d.loc.len == 17);
  REQUIRE(d.args.size() == 3);
  CHECK((d.args[0].loc.line == 1 && d.args[0].loc.col == 19 && d.args[0].loc.len == 5));
  CHECK(!d.args[0].quoted);
  CHECK((d.args[1].loc.line == 1 && d.args[1].loc.col == 25 && d.args[1].loc.len == 5));
  CHECK(d.args[1].quoted);
  // After a continuation the position is in the physical line.
  CHECK((d.args[2].loc.line == 2 && d.args[2].loc.col == 4 && d.args[2].loc.len == 11));
  const Directive& s = tree[1];
  CHECK(s.is_section);
  CHECK(s.name == "Location");
  CHECK((s.loc.line == 3 && s.loc.col == 2 && s.loc.len == 8));
  REQUIRE(s.args.size() == 1);
  CHECK(s.args[0].text == "/é");
  CHECK((s.args[0].loc.col == 11 && s.args[0].loc.len == 2));  // characters, not bytes
  REQUIRE(s.children.size() == 1);
  const Directive& x = s.children[0];
  CHECK((x.loc.line == 4 && x.loc.col == 2));  // a tab is one character
  REQUIRE(x.args.size() == 2);
  CHECK((x.args[0].loc.col == 4 && x.args[0].loc.len == 3));
  CHECK((x.args[1].loc.col == 8 && x.args[1].loc.len == 3));
  CHECK(dump(diags) == "");
}

TEST_CASE("syntax: a word split by a continuation underlines to the end of its first line") {
  Diagnostics diags;
  auto tree = read_config_text("t.conf", "A abc\\\ndef\n", {}, &diags);
  REQUIRE(tree.size() == 1);
  REQUIRE(tree[0].args.size() == 1);
  CHECK(tree[0].args[0].text == "abcdef");
  CHECK((tree[0].args[0].loc.line == 1 && tree[0].args[0].loc.col == 3 && tree[0].args[0].loc.len == 3));
}

TEST_CASE("syntax: sections") {
  const Case cases[] = {
      {"<VirtualHost *:80>\nServerName a\n</VirtualHost>\n", "<VirtualHost *:80>{ServerName a}", ""},
      {"<virtualhost *:80>\n</VIRTUALHOST>\n", "<virtualhost *:80>{}", ""},  // case-insensitive
      {"<VirtualHost *:80>\n<Location /a>\nX\n</Location>\nY\n</VirtualHost>\nZ\n",
       "<VirtualHost *:80>{<Location /a>{X}; Y}; Z", ""},
      {"<Location \"/a b\">\n</Location>\n", "<Location \"/a b\">{}", ""},
      {"<Location \"/a>\">\n</Location>\n", "<Location \"/a>\">{}", ""},  // httpd strips the last '>'
      {"<Location /a>  \n</Location>  \n", "<Location /a>{}", ""},
      {"<Directory>\n</Directory>\n", "<Directory>{}", ""},
      {"  <Location /a>\n  </Location>\n", "<Location /a>{}", ""},
      {"<VirtualHost *:80\n</VirtualHost>\n", "<VirtualHost *:80>{}",
       "1:18: error: <VirtualHost> directive missing closing '>'\n"},
      {"<Location /a> x\n</Location>\n", "<Location /a> x>{}",
       "1:16: error: <Location> directive missing closing '>'\n"},
      {"<Location /a>\n</Location\n", "<Location /a>{}",
       "2:11: error: </Location> directive missing closing '>'\n"},
      {"<Location /a>\n</Location /a>\n", "<Location /a>{}",
       "2:12: error: </Location> takes no arguments\n"},
      {"</Location>\nA\n", "A", "1:1: error: </Location> without matching <Location> section\n"},
      {"<VirtualHost *:80>\n<Location /a>\nX\n</VirtualHost>\nY\n",
       "<VirtualHost *:80>{<Location /a>{X}}; Y",
       "4:1: error: expected </Location> but saw </VirtualHost>\n"
       "2:1: note: <Location> opened here, never closed\n"},
      {"<VirtualHost *:80>\n</Location>\n</VirtualHost>\n", "<VirtualHost *:80>{}",
       "2:1: error: </Location> without matching <Location> section\n"},
      {"<VirtualHost *:80>\nA\n", "<VirtualHost *:80>{A}",
       "2:2: error: missing </VirtualHost> before the end of the file\n"
       "1:1: note: <VirtualHost> opened here\n"},
      {"<VirtualHost *:80>\n  <Location /x>\nA\n\n", "<VirtualHost *:80>{<Location /x>{A}}",
       "4:1: error: missing </Location> before the end of the file\n"
       "2:3: note: <Location> opened here\n"
       "4:1: error: missing </VirtualHost> before the end of the file\n"
       "1:1: note: <VirtualHost> opened here\n"},
      {"<>\nA\n", "A", "1:1: error: '<' without a section name\n"},
      {"</>\nA\n", "A", "1:1: error: '</' without a section name\n"},
  };
  for (const Case& c : cases) run(c);
}

TEST_CASE("syntax: <IfModule> and <IfDefine> are evaluated and vanish") {
  SyntaxOptions options;
  options.defines = {"PROD", "TLS"};
  const Case cases[] = {
      {"<IfModule mod_wsgi.c>\nA\n</IfModule>\nB\n", "A; B", ""},
      {"<IfModule wsgi_module>\nA\n</IfModule>\n", "A", ""},
      {"<IfModule !mod_wsgi.c>\nA\n</IfModule>\nB\n", "B", ""},
      {"<IfModule mod_ssl.c>\nA\n</IfModule>\nB\n", "B", ""},
      {"<IfModule !mod_ssl.c>\nA\n</IfModule>\n", "A", ""},
      {"<ifmodule MOD_WSGI.C>\nA\n</IFMODULE>\n", "", ""},  // section name folds, module name does not
      {"<IfModule \"mod_wsgi.c\">\nA\n</IfModule>\n", "A", ""},
      {"<IfDefine PROD>\nA\n</IfDefine>\n", "A", ""},
      {"<IfDefine prod>\nA\n</IfDefine>\n", "", ""},  // defines are case-sensitive
      {"<IfDefine !PROD>\nA\n</IfDefine>\n", "", ""},
      {"<IfDefine !DEBUG>\nA\n</IfDefine>\n", "A", ""},
      {"<VirtualHost *:80>\n<IfModule mod_wsgi.c>\n<IfDefine PROD>\nA\n</IfDefine>\n"
       "<IfDefine !TLS>\nB\n</IfDefine>\n</IfModule>\nC\n</VirtualHost>\n",
       "<VirtualHost *:80>{A; C}", ""},
      {"<IfModule mod_ssl.c>\n<IfModule mod_wsgi.c>\nA\n</IfModule>\n<VirtualHost *:443>\nB\n"
       "</VirtualHost>\n</IfModule>\nC\n",
       "C", ""},
      // A false section still has to nest properly.
      {"<IfModule mod_ssl.c>\n<VirtualHost *:443>\n</IfModule>\nC\n", "C",
       "3:1: error: expected </VirtualHost> but saw </IfModule>\n"
       "2:1: note: <VirtualHost> opened here, never closed\n"},
      // Nothing inside a false section is looked at beyond nesting.
      {"<IfModule mod_ssl.c>\nInclude /nonexistent/x.conf\nA “b”\nB \"c\n</IfModule>\n", "", ""},
      {"<IfModule>\nA\n</IfModule>\n", "", "1:2: error: <IfModule> takes one argument, a module name\n"},
      {"<IfModule a b>\nA\n</IfModule>\n", "",
       "1:2: error: <IfModule> takes one argument, a module name\n"},
      {"<IfDefine !>\nA\n</IfDefine>\n", "", "1:11: error: <IfDefine> needs a name after '!'\n"},
  };
  for (const Case& c : cases) run(c, options);
}

TEST_CASE("syntax: module_is_loaded") {
  const char* loaded[] = {"wsgi_module", "mod_wsgi.c", "core_module", "core.c", "http_module",
                          "http_core.c", "so_module", "mod_so.c", "alias_module", "mod_alias.c",
                          "log_config_module", "mod_log_config.c", "reqtimeout_module",
                          "mod_reqtimeout.c", "unixd_module", "mod_unixd.c", "mpm_event_module",
                          "event.c", "authz_core_module", "mod_authz_core.c", "version_module",
                          "mod_version.c"};
  for (const char* m : loaded) {
    CAPTURE(m);
    CHECK(module_is_loaded(m));
  }
  const char* absent[] = {"ssl_module", "mod_ssl.c", "rewrite_module", "mod_rewrite.c",
                          "mpm_prefork_module", "mpm_worker_module", "prefork.c", "worker.c",
                          "headers_module", "Mod_wsgi.c", "wsgi", "mod_wsgi", "Version_module",
                          "mod_version", ""};
  for (const char* m : absent) {
    CAPTURE(m);
    CHECK(!module_is_loaded(m));
  }
}

TEST_CASE("syntax: typographic quotes are kept and warned about") {
  const Case cases[] = {
      {"A \xE2\x80\x9C/x\xE2\x80\x9D\n", "A \xE2\x80\x9C/x\xE2\x80\x9D",
       "1:3: warning: typographic quote U+201C (LEFT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the path\n"
       "1:6: warning: typographic quote U+201D (RIGHT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the path\n"},
      {"A \xE2\x80\x98x y\xE2\x80\x99\n", "A \xE2\x80\x98x y\xE2\x80\x99",
       "1:3: warning: typographic quote U+2018 (LEFT SINGLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"
       "1:7: warning: typographic quote U+2019 (RIGHT SINGLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"},
      {"A \xE2\x80\x9Ex\n", "A \xE2\x80\x9Ex",
       "1:3: warning: typographic quote U+201E (DOUBLE LOW-9 QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"},
      {"A \xC2\xABx\xC2\xBB\n", "A \xC2\xABx\xC2\xBB",
       "1:3: warning: typographic quote U+00AB (LEFT-POINTING DOUBLE ANGLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"
       "1:5: warning: typographic quote U+00BB (RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"},
      {"A \xE2\x80\x9Ax\xE2\x80\xB2\n", "A \xE2\x80\x9Ax\xE2\x80\xB2",
       "1:3: warning: typographic quote U+201A (SINGLE LOW-9 QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"
       "1:5: warning: typographic quote U+2032 (PRIME) is not a quote; the argument keeps it as part of the text\n"},
      // Inside ASCII quotes they are still text, and still warned about.
      {"A \"\xE2\x80\x9C\"\n", "A \"\xE2\x80\x9C\"",
       "1:4: warning: typographic quote U+201C (LEFT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"},
      // Unicode spaces from a web page.
      {"\xC2\xA0\n", "", "1:1: warning: U+00A0 (NO-BREAK SPACE) is not white space; skipped at the start of the line\n"},
      {"\xC2\xA0 WSGIProcessGroup a\n", "WSGIProcessGroup a",
       "1:1: warning: U+00A0 (NO-BREAK SPACE) is not white space; skipped at the start of the line\n"},
      {"A b\xC2\xA0" "c\n", "A b\xC2\xA0" "c",
       "1:4: warning: U+00A0 (NO-BREAK SPACE) is not white space; the argument keeps it\n"},
  };
  for (const Case& c : cases) run(c);
}

// The seed article's lines (tests/data/config/seed has the whole article).
TEST_CASE("syntax: the seed article's typographic quotes") {
  Diagnostics diags;
  auto tree = read_config_text("site.conf",
                               "WSGIScriptAlias /project1 \xE2\x80\x9C/home/website/project1.wsgi\xE2\x80\x9D\n"
                               "<Location \xE2\x80\x9C/project1\xE2\x80\xB3>\n"
                               "WSGIProcessGroup site1\n"
                               "</Location>\n",
                               {}, &diags);
  CHECK(dump(tree) ==
        "WSGIScriptAlias /project1 \xE2\x80\x9C/home/website/project1.wsgi\xE2\x80\x9D; "
        "<Location \xE2\x80\x9C/project1\xE2\x80\xB3>{WSGIProcessGroup site1}");
  REQUIRE(diags.all().size() == 4);
  CHECK(diags.error_count() == 0);
  CHECK(diags.warning_count() == 4);
  CHECK(diags.render_all() ==
        "site.conf:1:27: warning: typographic quote U+201C (LEFT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the path\n"
        "    1 | WSGIScriptAlias /project1 \xE2\x80\x9C/home/website/project1.wsgi\xE2\x80\x9D\n"
        "      |                           ^\n"
        "site.conf:1:27: note: write \"/home/website/project1.wsgi\" with ASCII double quotes (\")\n"
        "site.conf:1:55: warning: typographic quote U+201D (RIGHT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the path\n"
        "    1 | WSGIScriptAlias /project1 \xE2\x80\x9C/home/website/project1.wsgi\xE2\x80\x9D\n"
        "      |                                                       ^\n"
        "site.conf:1:55: note: write \"/home/website/project1.wsgi\" with ASCII double quotes (\")\n"
        "site.conf:2:11: warning: typographic quote U+201C (LEFT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the path\n"
        "    2 | <Location \xE2\x80\x9C/project1\xE2\x80\xB3>\n"
        "      |           ^\n"
        "site.conf:2:11: note: write \"/project1\" with ASCII double quotes (\")\n"
        "site.conf:2:21: warning: typographic quote U+2033 (DOUBLE PRIME) is not a quote; the argument keeps it as part of the path\n"
        "    2 | <Location \xE2\x80\x9C/project1\xE2\x80\xB3>\n"
        "      |                     ^\n"
        "site.conf:2:21: note: write \"/project1\" with ASCII double quotes (\")\n"
        "site.conf: 4 warnings generated.\n");
}

TEST_CASE("syntax: notes of typographic quotes") {
  struct NoteCase {
    const char* text;
    const char* notes;  // every diagnostic's notes, one per line
  };
  const NoteCase cases[] = {
      // The quoted text spans two words: both notes show all of it.
      {"A \xE2\x80\x98/x y\xE2\x80\x99\n",
       "write '/x y' with ASCII single quotes (')\nwrite '/x y' with ASCII single quotes (')\n"},
      {"A /x\xE2\x80\x9D\n", "write \"/x\" with ASCII double quotes (\")\n"},
      {"A \xE2\x80\x9C\xE2\x80\x9C/x\n",
       "write \"/x\" with ASCII double quotes (\")\nwrite \"/x\" with ASCII double quotes (\")\n"},
      {"A O\xE2\x80\x99" "Brien\n", "delete it unless the argument really contains it\n"},
      {"A \xC2\xA0\n", "replace it with an ordinary space\n"},
  };
  for (const NoteCase& c : cases) {
    std::string text = c.text;
    CAPTURE(text);
    Diagnostics diags;
    read_config_text("t.conf", c.text, {}, &diags);
    std::string notes;
    for (const Diagnostic& d : diags.all()) {
      for (const std::string& n : d.notes) notes += n + "\n";
    }
    CHECK(notes == c.notes);
  }
}

TEST_CASE("syntax: NUL bytes and invalid UTF-8 are errors with a position") {
  using namespace std::string_literals;
  const Case cases[] = {
      {"A \xFF\n", "", "1:3: error: invalid UTF-8 (byte 0xFF); configuration files must be UTF-8\n"},
      {"A \xC3\n", "", "1:3: error: invalid UTF-8 (byte 0xC3); configuration files must be UTF-8\n"},
      {"A \xC0\xAF\n", "", "1:3: error: invalid UTF-8 (byte 0xC0); configuration files must be UTF-8\n"},
      {"A \xED\xA0\x80\n", "", "1:3: error: invalid UTF-8 (byte 0xED); configuration files must be UTF-8\n"},
      {"\xC3\xA9 \xE9\n", "", "1:3: error: invalid UTF-8 (byte 0xE9); configuration files must be UTF-8\n"},
      {"# caf\xE9\nA\n", "A",
       "1:6: warning: invalid UTF-8 (byte 0xE9); configuration files must be UTF-8 (in a comment)\n"},
      {"A b\\\nc\xFF\nD\n", "D", "2:2: error: invalid UTF-8 (byte 0xFF); configuration files must be UTF-8\n"},
  };
  for (const Case& c : cases) run(c);
  // With a real NUL (the table's strings stop at it).
  Diagnostics diags;
  auto tree = read_config_text("t.conf", "A b\nC \0d\nE f\n"s, {}, &diags);
  CHECK(dump(tree) == "A b; E f");
  CHECK(dump(diags) == "2:3: error: NUL byte in configuration text\n");
  CHECK(diags.render_all() ==
        "t.conf:2:3: error: NUL byte in configuration text\n"
        "    2 | C ?d\n"
        "      |   ^\n"
        "t.conf: 1 error generated.\n");
}

TEST_CASE("syntax: Include and IncludeOptional") {
  SyntaxOptions options;
  options.server_root = "syntax/inc";
  struct IncCase {
    const char* text;
    const char* tree;
    const char* diags;
  };
  const IncCase cases[] = {
      {"Include conf.d/a.conf\n", "ServerName a", ""},
      {"include conf.d/a.conf\n", "ServerName a", ""},
      // A wildcard matches in byte order, never dot files.
      {"Include conf.d/*.conf\n", "ServerName a; ServerName b", ""},
      {"Include conf.d/?.conf\n", "ServerName a; ServerName b", ""},
      {"Include conf.d/[b].conf\n", "ServerName b", ""},
      {"Include co*/[ab].conf\n", "ServerName a; ServerName b", ""},
      // A directory: every file in it and below, sorted.
      {"Include dir\n", "Zero 0; One 1; Two 2", ""},
      {"Include dir/\n", "Zero 0; One 1; Two 2", ""},
      {"Include \"conf.d/a.conf\"\n", "ServerName a", ""},
      // Inside a section, the included directives are its children.
      {"<VirtualHost *:80>\nInclude conf.d/b.conf\nX\n</VirtualHost>\n",
       "<VirtualHost *:80>{ServerName b; X}", ""},
      {"<IfModule mod_wsgi.c>\nInclude conf.d/b.conf\n</IfModule>\n", "ServerName b", ""},
      {"Include /nonexistent/wsgid.conf\nA\n", "A",
       "1:9: error: could not open configuration file '/nonexistent/wsgid.conf': No such file or directory\n"},
      {"Include missing.conf\n", "",
       "1:9: error: could not open configuration file 'syntax/inc/missing.conf': No such file or directory\n"},
      {"Include conf.d/*.none\n", "",
       "1:9: error: Include: no file matches the wildcard 'syntax/inc/conf.d/*.none'\n"},
      {"Include nodir/*.conf\n", "",
       "1:9: error: Include: no file matches the wildcard 'syntax/inc/nodir/*.conf'\n"},
      {"IncludeOptional conf.d/*.none\nA\n", "A", ""},
      {"IncludeOptional missing.conf\nA\n", "A", ""},
      {"IncludeOptional conf.d/*.conf\n", "ServerName a; ServerName b", ""},
      {"Include\n", "", "1:1: error: Include takes one argument, the file, directory or wildcard to include\n"},
      {"Include a b\n", "", "1:1: error: Include takes one argument, the file, directory or wildcard to include\n"},
      {"Include \"\"\n", "", "1:9: error: Include needs a non-empty path\n"},
      {"Include cycle/a.conf\n", "A before; B before; A after",
       "syntax/inc/cycle/b.conf:2:9: error: Include cycle: syntax/inc/cycle/a.conf -> syntax/inc/cycle/b.conf -> syntax/inc/cycle/a.conf\n"},
      {"Include self.conf\n", "",
       "syntax/inc/self.conf:1:9: error: Include cycle: syntax/inc/self.conf -> syntax/inc/self.conf\n"},
      // Sections must close in the file that opens them.
      {"<VirtualHost *:80>\nInclude unclosed.conf\n</VirtualHost>\n",
       "<VirtualHost *:80>{<Location /open>{SetHandler x}}",
       "syntax/inc/unclosed.conf:2:13: error: missing </Location> before the end of the file\n"
       "syntax/inc/unclosed.conf:1:1: note: <Location> opened here\n"},
      {"<VirtualHost *:80>\nInclude stray_close.conf\n</VirtualHost>\n", "<VirtualHost *:80>{}",
       "syntax/inc/stray_close.conf:1:1: error: </VirtualHost> without matching <VirtualHost> section\n"},
  };
  for (const IncCase& c : cases) {
    std::string text = c.text;
    CAPTURE(text);
    Diagnostics diags;
    auto tree = read_config_text("t.conf", c.text, options, &diags);
    CHECK(dump(tree) == c.tree);
    CHECK(dump(diags) == c.diags);
  }
}

TEST_CASE("syntax: relative Include paths resolve against the main file's directory") {
  Diagnostics diags;
  auto tree = read_config_file("syntax/inc/main.conf", {}, &diags);
  CHECK(dump(tree) == "Listen 80; <VirtualHost *:80>{ServerName a; ServerName b}");
  CHECK(dump(diags) == "");
  // An included file's directives carry its own name and positions.
  REQUIRE(tree.size() == 2);
  REQUIRE(tree[1].children.size() == 2);
  CHECK(tree[1].children[0].loc.file == "syntax/inc/conf.d/a.conf");
  CHECK(tree[1].children[0].loc.line == 1);
  CHECK(tree[0].loc.file == "syntax/inc/main.conf");
  CHECK(tree[0].loc.line == 2);
}

TEST_CASE("syntax: diagnostics in included files render their own lines, once") {
  SyntaxOptions options;
  options.server_root = "syntax/inc";
  Diagnostics diags;
  read_config_text("t.conf", "Include typo.conf\nInclude typo.conf\n", options, &diags);
  CHECK(diags.warning_count() == 2);  // one per character, not per inclusion
  CHECK(diags.render(diags.all()[0]) ==
        "syntax/inc/typo.conf:1:6: warning: typographic quote U+201C (LEFT DOUBLE QUOTATION MARK) is not a quote; the argument keeps it as part of the text\n"
        "    1 | Seen \xE2\x80\x9Cquoted\xE2\x80\x9D\n"
        "      |      ^\n"
        "syntax/inc/typo.conf:1:6: note: write \"quoted\" with ASCII double quotes (\")\n");
}

TEST_CASE("syntax: read_config_file errors") {
  Diagnostics diags;
  auto tree = read_config_file("syntax/inc/missing.conf", {}, &diags);
  CHECK(tree.empty());
  CHECK(dump(diags, "") ==
        "syntax/inc/missing.conf:0:0: error: could not open configuration file 'syntax/inc/missing.conf': No such file or directory\n");
  Diagnostics dir_diags;
  read_config_file("syntax/inc", {}, &dir_diags);
  CHECK(dump(dir_diags, "") == "syntax/inc:0:0: error: 'syntax/inc' is a directory, not a configuration file\n");
  Diagnostics cycle_diags;
  tree = read_config_file("syntax/inc/self.conf", {}, &cycle_diags);
  CHECK(dump(cycle_diags, "") ==
        "syntax/inc/self.conf:1:9: error: Include cycle: syntax/inc/self.conf -> syntax/inc/self.conf\n");
  Diagnostics special;
  SyntaxOptions options;
  read_config_text("t.conf", "Include /dev/null\nInclude /dev/zero\n", options, &special);
  CHECK(dump(special) == "1:9: error: '/dev/null' is not a regular file\n"
                         "2:9: error: '/dev/zero' is not a regular file\n");
}

TEST_CASE("syntax: Include is refused when allow_include is off") {
  SyntaxOptions options;
  options.allow_include = false;
  options.server_root = "syntax/inc";
  const Case cases[] = {
      {"Include conf.d/a.conf\nA\n", "A", "1:1: error: Include is not allowed here\n"},
      {"IncludeOptional conf.d/a.conf\n", "", "1:1: error: IncludeOptional is not allowed here\n"},
  };
  for (const Case& c : cases) run(c, options);
}

TEST_CASE("syntax: limits against hostile input") {
  // Nesting: one error, no crash, the closes still balance.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "<A>\n";
  for (int i = 0; i < 200; ++i) deep += "</A>\n";
  deep += "B\n";
  Diagnostics diags;
  auto tree = read_config_text("t.conf", deep, {}, &diags);
  CHECK(dump(diags) == "65:1: error: sections nested deeper than 64\n");
  REQUIRE(!tree.empty());
  CHECK(tree.back().name == "B");

  // A line too long, also when made of continuations.
  Diagnostics long_diags;
  std::string long_line = "A " + std::string(70000, 'x') + "\nB\n";
  tree = read_config_text("t.conf", long_line, {}, &long_diags);
  CHECK(dump(tree) == "B");
  CHECK(dump(long_diags) == "1:0: error: line longer than 65536 bytes\n");
  Diagnostics cont_diags;
  std::string joined;
  for (int i = 0; i < 2000; ++i) joined += "A" + std::string(40, 'x') + "\\\n";
  joined += "end\nB\n";
  tree = read_config_text("t.conf", joined, {}, &cont_diags);
  CHECK(dump(tree) == "B");
  CHECK(dump(cont_diags) == "2001:0: error: line longer than 65536 bytes\n");

  // Many unclosed sections: one error per open section, bounded by the limit.
  std::string open;
  for (int i = 0; i < 100000; ++i) open += "<A>\n";
  Diagnostics open_diags;
  read_config_text("t.conf", open, {}, &open_diags);
  CHECK(open_diags.error_count() == 65);  // the depth error + 64 missing closes
}

// Every note of every diagnostic, one per line.
std::string notes_of(const Diagnostics& diags) {
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    for (const std::string& n : d.notes) out += n + "\n";
  }
  return out;
}

#define UNDEFINED(var, where) where ": warning: config variable ${" var "} is not defined; it is left as written\n"

TEST_CASE("syntax: Define, UnDefine and ${NAME} in reading order") {
  SyntaxOptions options;
  options.defines = {"PROD"};
  const Case cases[] = {
      {"Define X 1\nA ${X}\n", "A 1", ""},
      {"Define X\n<IfDefine X>\nA\n</IfDefine>\n", "A", ""},
      // A Define without a value defines no ${X}, as in httpd.
      {"Define X\nA ${X}\n", "A ${X}", UNDEFINED("X", "2:3")},
      {"Define X 1\nDefine X\nA ${X}\n", "A 1", ""},  // and keeps an earlier value
      {"Define X 1\nUnDefine X\nA ${X}\n<IfDefine X>\nB\n</IfDefine>\n", "A ${X}", UNDEFINED("X", "3:3")},
      {"<IfDefine PROD>\nA\n</IfDefine>\n", "A", ""},
      {"UnDefine PROD\n<IfDefine PROD>\nA\n</IfDefine>\n", "", ""},  // -D names too
      {"<IfDefine !NEW>\nA\n</IfDefine>\nDefine NEW\n<IfDefine NEW>\nB\n</IfDefine>\n", "A; B", ""},
      {"A ${X}\nDefine X 1\nB ${X}\n", "A ${X}; B 1", UNDEFINED("X", "1:3")},
      {"define x 1\nundefine x\nA ${x}\n", "A ${x}", UNDEFINED("x", "3:3")},
      // Substituted before the line is split into words, as ap_resolve_env.
      {"Define OPTS \"processes=2 threads=15\"\nWSGIDaemonProcess site ${OPTS}\n",
       "WSGIDaemonProcess site processes=2 threads=15", ""},
      {"Define X \"a b\"\nA \"${X} c\"\n", "A \"a b c\"", ""},
      {"Define Q \"'a b'\"\nA ${Q}\n", "A \"a b\"", ""},
      {"Define D ServerName\n${D} x\n", "ServerName x", ""},
      {"Define E \"\"\n${E}\n  ${E}  \nA\n", "A", ""},
      {"Define X a\nDefine Y b\nA ${X}${Y}/z $${X} x${X}y\n", "A ab/z $a xay", ""},
      {"Define ADDR *:8080\n<VirtualHost ${ADDR}>\nServerName x\n</VirtualHost>\n",
       "<VirtualHost *:8080>{ServerName x}", ""},
      // Values are not scanned again.
      {"Define X ${Y}\nA ${X}\n", "A ${Y}", UNDEFINED("Y", "1:10")},
      {"Define X $\nDefine Y {Z}\nA ${X}${Y}\n", "A ${Z}", ""},
      // Not references: no change, no warning.
      {"A $X ${NOPE $\n", "A $X ${NOPE $", ""},
      {"RewriteRule ^/(.*) ${map:$1}\n", "RewriteRule ^/(.*) ${map:$1}", ""},
      {"Define X 1\nA ${X:y}\n", "A ${X:y}", ""},
      {"A ${}\n", "A ${}", UNDEFINED("", "1:3")},
      {"A ${X} ${X}\n", "A ${X} ${X}", UNDEFINED("X", "1:3") UNDEFINED("X", "1:8")},
      // Define is global, also inside a <VirtualHost>.
      {"<VirtualHost *:80>\nDefine V 1\n</VirtualHost>\nA ${V}\n", "<VirtualHost *:80>{}; A 1", ""},
      // Nothing in a false section is defined or substituted; comments neither.
      {"<IfDefine NOPE>\nDefine X 1\nB ${UNDEF}\n</IfDefine>\nA ${X}\n", "A ${X}", UNDEFINED("X", "5:3")},
      {"# ${X}\nA\n", "A", ""},
      {"Define\nA\n", "A", "1:1: error: Define takes one or two arguments, a name and an optional value\n"},
      {"Define a b c\n", "", "1:1: error: Define takes one or two arguments, a name and an optional value\n"},
      {"UnDefine\n", "", "1:1: error: UnDefine takes one argument, a name\n"},
      {"UnDefine a b\n", "", "1:1: error: UnDefine takes one argument, a name\n"},
      {"Define a:b 1\n", "", "1:8: error: variable name 'a:b' must not contain ':'\n"},
      {"UnDefine a:b\n", "", "1:10: error: variable name 'a:b' must not contain ':'\n"},
      {"Define \"\" 1\n", "", "1:8: error: Define needs a non-empty name\n"},
      {"undefine \"\"\n", "", "1:10: error: undefine needs a non-empty name\n"},
  };
  for (const Case& c : cases) run(c, options);
}

TEST_CASE("syntax: ${NAME} from the environment") {
  REQUIRE(setenv("WSGID_SYNTAX_TEST_DIR", "/var/log/wsgid-test", 1) == 0);
  unsetenv("WSGID_SYNTAX_TEST_UNSET");
  const Case cases[] = {
      {"ErrorLog ${WSGID_SYNTAX_TEST_DIR}/error.log\n", "ErrorLog /var/log/wsgid-test/error.log", ""},
      // Define first, then the environment.
      {"Define WSGID_SYNTAX_TEST_DIR /tmp\nA ${WSGID_SYNTAX_TEST_DIR}\nUnDefine WSGID_SYNTAX_TEST_DIR\n"
       "B ${WSGID_SYNTAX_TEST_DIR}\n",
       "A /tmp; B /var/log/wsgid-test", ""},
      // An environment variable is not a define.
      {"<IfDefine WSGID_SYNTAX_TEST_DIR>\nA\n</IfDefine>\n", "", ""},
      {"A ${WSGID_SYNTAX_TEST_UNSET}\n", "A ${WSGID_SYNTAX_TEST_UNSET}",
       UNDEFINED("WSGID_SYNTAX_TEST_UNSET", "1:3")},
  };
  for (const Case& c : cases) run(c);
  unsetenv("WSGID_SYNTAX_TEST_DIR");
  run({"A ${WSGID_SYNTAX_TEST_DIR}\n", "A ${WSGID_SYNTAX_TEST_DIR}", UNDEFINED("WSGID_SYNTAX_TEST_DIR", "1:3")});
}

TEST_CASE("syntax: an undefined ${NAME}: position, notes, rendering") {
  Diagnostics diags;
  auto tree = read_config_text("t.conf", "Define DIR /srv\nA x${DIR}y ${UNDEF}\n", {}, &diags);
  REQUIRE(tree.size() == 1);
  REQUIRE(tree[0].args.size() == 2);
  CHECK(tree[0].args[0].text == "x/srvy");
  // A word with a value underlines what was written.
  CHECK((tree[0].args[0].loc.line == 2 && tree[0].args[0].loc.col == 3 && tree[0].args[0].loc.len == 8));
  CHECK((tree[0].args[1].loc.col == 12 && tree[0].args[1].loc.len == 8));
  CHECK(diags.render_all() ==
        "t.conf:2:12: warning: config variable ${UNDEF} is not defined; it is left as written\n"
        "    2 | A x${DIR}y ${UNDEF}\n"
        "      |            ^~~~~~~~\n"
        "t.conf:2:12: note: define it with 'Define UNDEF value' before this line, or set UNDEF in wsgid's environment\n"
        "t.conf: 1 warning generated.\n");

  // Words split out of one value: the first at the "${", the last at the "}".
  Diagnostics split_diags;
  tree = read_config_text("t.conf", "Define OPTS \"a b c\"\nX ${OPTS}\n", {}, &split_diags);
  REQUIRE(tree.size() == 1);
  REQUIRE(tree[0].args.size() == 3);
  CHECK((tree[0].args[0].loc.col == 3 && tree[0].args[0].loc.len == 1));
  CHECK((tree[0].args[1].loc.col == 3 && tree[0].args[1].loc.len == 1));
  CHECK((tree[0].args[2].loc.col == 9 && tree[0].args[2].loc.len == 1));

  // Debian's variables come from envvars: say so.
  unsetenv("APACHE_LOG_DIR");
  Diagnostics debian;
  read_config_text("t.conf", "ErrorLog ${APACHE_LOG_DIR}/error.log\n", {}, &debian);
  CHECK(dump(debian) == UNDEFINED("APACHE_LOG_DIR", "1:10"));
  CHECK(notes_of(debian) ==
        "define it with 'Define APACHE_LOG_DIR value' before this line, or set APACHE_LOG_DIR in wsgid's environment\n"
        "Debian's apache2ctl sets APACHE_* variables from /etc/apache2/envvars; source that file in the shell that starts wsgid\n");

  Diagnostics colon;
  read_config_text("t.conf", "Define a:b 1\n", {}, &colon);
  CHECK(notes_of(colon) == "httpd leaves ${...} with ':' to other modules, such as RewriteMap's ${map:key}\n");

  // A file included twice warns once per place.
  SyntaxOptions options;
  options.server_root = "syntax/inc";
  Diagnostics twice;
  read_config_text("t.conf", "Include vars.conf\nInclude vars.conf\n", options, &twice);
  CHECK(dump(twice) == UNDEFINED("WSGID_SYNTAX_TEST_NEVER", "syntax/inc/vars.conf:1:8"));
}

TEST_CASE("syntax: limits of ${NAME} substitution") {
  // One line: 64 KiB once substituted.
  std::string text = "Define X " + std::string(40000, 'x') + "\nA ${X} ${X}\nB\n";
  Diagnostics diags;
  auto tree = read_config_text("t.conf", text, {}, &diags);
  CHECK(dump(tree) == "B");
  CHECK(dump(diags) == "2:0: error: line longer than 65536 bytes after ${} substitution\n");

  // In all: 64 MiB of values.
  text = "Define X " + std::string(60000, 'x') + "\n";
  for (int i = 0; i < 1200; ++i) text += "A ${X}\n";
  Diagnostics all_diags;
  tree = read_config_text("t.conf", text, {}, &all_diags);
  CHECK(tree.size() == 1118);
  CHECK(dump(all_diags) ==
        "1120:3: error: ${} substitution added more than 64 MiB in all; this line and later ones with variables are not read\n");
}

TEST_CASE("syntax: <IfVersion> against httpd 2.4.57") {
  const Case cases[] = {
      {"<IfVersion 2.4.57>\nA\n</IfVersion>\nB\n", "A; B", ""},
      {"<IfVersion 2.4>\nA\n</IfVersion>\n", "", ""},  // 2.4 is 2.4.0
      {"<IfVersion = 2.4.57>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion == 2.4.57>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion != 2.4.57>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion != 2.4>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion > 2.4>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion > 2.4.57>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion >= 2.4.57>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion >= 2.4.58>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion < 2.5>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion < 2.4.57>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion <= 2.4.57>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion <= 2.4.56>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion !< 2.4>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion !>= 2.4>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion >= 2>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion < 3>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion >= 3>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion 2.4.57.>\nA\n</IfVersion>\n", "A", ""},  // as mod_version
      {"<IfVersion < 2.4.99999999999999999999>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion \"2.4.57\">\nA\n</IfVersion>\n", "A", ""},
      {"<ifversion >= 2.4>\nA\n</IFVERSION>\n", "A", ""},
      // Regular expressions, searched in "2.4.57".
      {"<IfVersion /^2\\.4\\./>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion = /^2\\.2/>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion != /^2\\.2/>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion ~ ^2\\.4>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion !~ ^2\\.4>\nA\n</IfVersion>\n", "", ""},
      {"<IfVersion ~ \\.5[0-9]$>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion ~ ^2\\.4\\.\\d+$>\nA\n</IfVersion>\n", "A", ""},
      {"<IfVersion ~ /2.4/>\nA\n</IfVersion>\n", "", ""},  // after ~ the slashes are the pattern's
      {"<IfVersion //>\nA\n</IfVersion>\n", "A", ""},
      // Would take exponential time in a backtracking matcher.
      {"<IfVersion ~ ^(.?){60}(.?){60}x$>\nA\n</IfVersion>\nB\n", "B", ""},
      {"Define V 2.4\n<IfVersion >= ${V}>\nA\n</IfVersion>\n", "A", ""},
      {"<IfModule mod_version.c>\n<IfVersion < 2.4>\nA\n</IfVersion>\n<IfVersion >= 2.4>\nB\n"
       "</IfVersion>\n</IfModule>\n",
       "B", ""},
      // A false one hides everything; nothing in it is looked at beyond nesting.
      {"<IfVersion < 2.4>\n<VirtualHost *:80>\n</VirtualHost>\nInclude /nonexistent\n<IfVersion x>\n"
       "</IfVersion>\n</IfVersion>\nC\n",
       "C", ""},
      {"<IfVersion>\nA\n</IfVersion>\n", "",
       "1:2: error: <IfVersion> takes one or two arguments, an optional operator and a version\n"},
      {"<IfVersion = 2 4>\nA\n</IfVersion>\n", "",
       "1:2: error: <IfVersion> takes one or two arguments, an optional operator and a version\n"},
      {"<IfVersion >> 2.4>\nA\n</IfVersion>\n", "", "1:12: error: unknown comparison operator '>>' in <IfVersion>\n"},
      {"<IfVersion ! 2.4>\nA\n</IfVersion>\n", "", "1:12: error: unknown comparison operator '!' in <IfVersion>\n"},
      {"<IfVersion ~= 2.4>\nA\n</IfVersion>\n", "", "1:12: error: unknown comparison operator '~=' in <IfVersion>\n"},
      {"<IfVersion =< 2.4>\nA\n</IfVersion>\n", "", "1:12: error: unknown comparison operator '=<' in <IfVersion>\n"},
      {"<IfVersion \"\" 2.4>\nA\n</IfVersion>\n", "", "1:12: error: unknown comparison operator '' in <IfVersion>\n"},
      {"<IfVersion >=2.4>\nA\n</IfVersion>\n", "",
       "1:12: error: invalid version '>=2.4' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion v2.4>\nA\n</IfVersion>\n", "",
       "1:12: error: invalid version 'v2.4' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion 2.4x>\nA\n</IfVersion>\n", "",
       "1:12: error: invalid version '2.4x' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion 2.4.57.1>\nA\n</IfVersion>\n", "",
       "1:12: error: invalid version '2.4.57.1' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion < /2.4/>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid version '/2.4/' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion \"\">\nA\n</IfVersion>\n", "",
       "1:12: error: invalid version '' in <IfVersion>: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57\n"},
      {"<IfVersion /^2.4>\nA\n</IfVersion>\n", "", "1:12: error: regular expression '/^2.4' in <IfVersion> has no closing '/'\n"},
      {"<IfVersion />\nA\n</IfVersion>\n", "", "1:12: error: regular expression '/' in <IfVersion> has no closing '/'\n"},
      {"<IfVersion ~ (2>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '(2' in <IfVersion>: unmatched parenthesis\n"},
      {"<IfVersion = /[2/>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '[2' in <IfVersion>: unmatched [\n"},
      {"<IfVersion ~ *2>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '*2' in <IfVersion>: misplaced character\n"},
      {"<IfVersion ~ 2)>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '2)' in <IfVersion>: unmatched parenthesis\n"},
      {"<IfVersion ~ \\(?2\\)?>\nA\n</IfVersion>\n", "A", ""},  // escaped parentheses
      {"<IfVersion ~ 2{1>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '2{1' in <IfVersion>: unmatched {\n"},
      {"<IfVersion ~ 2{2,1}>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '2{2,1}' in <IfVersion>: invalid repetition count in {}\n"},
      {"<IfVersion ~ [z-a]>\nA\n</IfVersion>\n", "",
       "1:14: error: invalid regular expression '[z-a]' in <IfVersion>: invalid character range\n"},
  };
  for (const Case& c : cases) run(c);

  Diagnostics diags;
  read_config_text("t.conf", "<IfVersion >=2.4>\n</IfVersion>\n<IfVersion <> 2.4>\n</IfVersion>\n", {}, &diags);
  CHECK(notes_of(diags) ==
        "put a space between the operator and the version: '>= 2.4'\n"
        "use =, ==, <, <=, >, >= or ~ (a regular expression), optionally after '!'\n");
  Diagnostics slash;
  read_config_text("t.conf", "<IfVersion /x>\n</IfVersion>\n", {}, &slash);
  CHECK(notes_of(slash) == "write /regex/, or use the ~ operator: ~ regex\n");
  Diagnostics long_diags;
  read_config_text("t.conf", "<IfVersion ~ " + std::string(257, 'x') + ">\nA\n</IfVersion>\n", {}, &long_diags);
  CHECK(dump(long_diags) == "1:14: error: regular expression in <IfVersion> longer than 256 characters\n");
}

TEST_CASE("syntax: ServerRoot changes the base of later relative Include paths") {
  struct RootCase {
    const char* server_root;  // SyntaxOptions::server_root
    Case c;
  };
  const RootCase cases[] = {
      {"", {"ServerRoot syntax/inc\nInclude conf.d/a.conf\n", "ServerRoot syntax/inc; ServerName a", ""}},
      {"syntax", {"ServerRoot inc/\nInclude conf.d/b.conf\n", "ServerRoot inc/; ServerName b", ""}},
      {"syntax",
       {"Include inc/conf.d/a.conf\nServerRoot /nonexistent\nInclude x.conf\n",
        "ServerName a; ServerRoot /nonexistent",
        "3:9: error: could not open configuration file '/nonexistent/x.conf': No such file or directory\n"}},
      // Only outside sections (httpd: GLOBAL_ONLY); conditionals do not count.
      {"syntax",
       {"<VirtualHost *:80>\nServerRoot /nonexistent\n</VirtualHost>\nInclude inc/conf.d/a.conf\n",
        "<VirtualHost *:80>{ServerRoot /nonexistent}; ServerName a", ""}},
      {"", {"<IfModule mod_wsgi.c>\nServerRoot syntax/inc\n</IfModule>\nInclude conf.d/a.conf\n",
            "ServerRoot syntax/inc; ServerName a", ""}},
      {"", {"<IfDefine NOPE>\nServerRoot /nonexistent\n</IfDefine>\nInclude syntax/inc/conf.d/a.conf\n",
            "ServerName a", ""}},
      {"syntax/inc",
       {"<VirtualHost *:80>\nInclude setroot.conf\nInclude conf.d/a.conf\n</VirtualHost>\n",
        "<VirtualHost *:80>{ServerRoot dir/sub; ServerName a}", ""}},
      // Wrong ones are the parser's to report; they change nothing.
      {"", {"ServerRoot\nServerRoot a b\nServerRoot \"\"\nInclude syntax/inc/conf.d/a.conf\n",
            "ServerRoot; ServerRoot a b; ServerRoot \"\"; ServerName a", ""}},
      {"", {"Define ROOT syntax/inc\nServerRoot ${ROOT}\nInclude conf.d/a.conf\n",
            "ServerRoot syntax/inc; ServerName a", ""}},
      {"syntax/inc", {"Define CONF conf.d\nInclude ${CONF}/*.conf\n", "ServerName a; ServerName b", ""}},
  };
  for (const RootCase& rc : cases) {
    SyntaxOptions options;
    options.server_root = rc.server_root;
    run(rc.c, options);
  }
  // In the main file and in an included one, relative to the base before it.
  Diagnostics diags;
  auto tree = read_config_file("syntax/root/main.conf", {}, &diags);
  CHECK(dump(tree) == "ServerName root-a; ServerRoot ../inc; ServerName b; ServerRoot dir/sub; Two 2");
  CHECK(dump(diags) == "");
  REQUIRE(tree.size() == 5);
  CHECK(tree[4].loc.file == "syntax/root/../inc/dir/sub/2.conf");
}

}  // namespace
}  // namespace wsgid::config
