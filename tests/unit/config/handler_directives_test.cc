// The handler directives (supervisor/config/handler_directives.cc): what
// SetHandler, AddHandler, Options, DocumentRoot, DirectoryIndex, DirectorySlash
// and FileETag record, and
// each of their errors with its exact text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

// The errors and warnings of text, less the "serves no request" warning.
std::vector<std::string> messages(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all())
    if (d.message.find("serves no request") == std::string::npos) out.push_back(d.message);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}

}  // namespace

TEST_CASE("handler directives record what Apache would apply in a <Location>") {
  struct Case {
    const char* lines;
    const char* set_handler;  // "" = unset
    const char* extensions;   // joined by spaces
    int exec_cgi;             // -1 unset, 0 off, 1 on
    const char* index;        // "-" = unset, "" = disabled, else names joined
  } cases[] = {
      {"SetHandler wsgi-script", "wsgi-script", "", -1, "-"},
      {"SetHandler WSGI-Script", "wsgi-script", "", -1, "-"},
      {"SetHandler None", "none", "", -1, "-"},
      {"AddHandler wsgi-script .wsgi .py", "", ".wsgi .py", -1, "-"},
      {"AddHandler wsgi-script wsgi .PY", "", ".wsgi .py", -1, "-"},
      {"AddHandler wsgi-script .wsgi\nAddHandler wsgi-script .py", "", ".wsgi .py", -1, "-"},
      {"Options ExecCGI FollowSymLinks", "", "", 1, "-"},
      {"Options +ExecCGI", "", "", 1, "-"},
      {"Options -ExecCGI", "", "", 0, "-"},
      {"Options FollowSymLinks", "", "", 0, "-"},
      {"Options -Indexes", "", "", -1, "-"},
      {"DirectoryIndex index.html index.wsgi", "", "", -1, "index.html index.wsgi"},
      {"DirectoryIndex disabled", "", "", -1, ""},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.lines));
    ParseResult r = parse(std::string("<Location /a>\n") + c.lines + "\n</Location>\n");
    CHECK(messages(r).empty());
    REQUIRE(r.config.server.locations.size() == 1);
    const HandlerSettings& h = r.config.server.locations[0].settings.handlers;
    CHECK(h.set_handler.value_or("") == c.set_handler);
    CHECK(join(h.wsgi_extensions) == c.extensions);
    CHECK((h.exec_cgi ? (*h.exec_cgi ? 1 : 0) : -1) == c.exec_cgi);
    std::string index = h.directory_index ? join(*h.directory_index) : "-";
    CHECK(index == c.index);
  }
}

TEST_CASE("DirectorySlash and FileETag record mod_dir's and core's settings") {
  using wsgid::model::kETagINode;
  using wsgid::model::kETagMTime;
  using wsgid::model::kETagSize;
  struct Case {
    const char* lines;
    const char* slash;  // "" = unset
    int etag;           // -1 = unset
    int add, remove;
  } cases[] = {
      {"DirectorySlash Off", "off", -1, 0, 0},
      {"DirectorySlash ON", "on", -1, 0, 0},
      {"DirectorySlash NotFound", "notfound", -1, 0, 0},
      {"FileETag None", "", 0, 0, 0},
      {"FileETag All", "", kETagINode | kETagMTime | kETagSize, 0, 0},
      {"FileETag MTime Size", "", kETagMTime | kETagSize, 0, 0},
      {"FileETag LastModified", "", kETagMTime, 0, 0},
      {"FileETag INode MTime Size", "", kETagINode | kETagMTime | kETagSize, 0, 0},
      {"FileETag -INode +Size", "", -1, kETagSize, kETagINode},
      {"FileETag +INode -INode", "", -1, 0, kETagINode},
      {"FileETag +INode MTime", "", kETagMTime, 0, 0},  // a plain keyword starts afresh
      {"FileETag MTime +INode", "", kETagMTime, kETagINode, 0},
      {"FileETag None Size", "", kETagSize, 0, 0},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.lines));
    ParseResult r = parse(std::string("<Location /a>\n") + c.lines + "\n</Location>\n");
    CHECK(messages(r).empty());
    REQUIRE(r.config.server.locations.size() == 1);
    const HandlerSettings& h = r.config.server.locations[0].settings.handlers;
    CHECK(h.directory_slash.value_or("") == c.slash);
    CHECK(h.file_etag.value_or(-1) == c.etag);
    CHECK(h.file_etag_add == c.add);
    CHECK(h.file_etag_remove == c.remove);
  }
}

TEST_CASE("MaxRanges records core's value, or core's refusal") {
  struct Case {
    const char* line;
    int value;          // when accepted
    const char* error;  // "" = accepted
  } cases[] = {
      {"MaxRanges 5", 5, ""},
      {"MaxRanges none", wsgid::model::kMaxRangesNone, ""},
      {"MaxRanges UNLIMITED", wsgid::model::kMaxRangesUnlimited, ""},
      {"MaxRanges default", wsgid::model::kMaxRangesDefault, ""},
      {"MaxRanges 0", 0, "MaxRanges requires 'none', 'default', 'unlimited' or a positive integer"},
      {"MaxRanges -3", 0, "MaxRanges requires 'none', 'default', 'unlimited' or a positive integer"},
      {"MaxRanges many", 0, "MaxRanges requires 'none', 'default', 'unlimited' or a positive integer"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.line));
    ParseResult r = parse(std::string("<Directory /srv>\n") + c.line + "\n</Directory>\n");
    if (*c.error) {
      REQUIRE(messages(r).size() == 1);
      CHECK(messages(r)[0].find(c.error) != std::string::npos);
      continue;
    }
    CHECK(messages(r).empty());
    REQUIRE(r.config.server.directories.size() == 1);
    CHECK(r.config.server.directories[0].settings.handlers.max_ranges.value_or(-99) == c.value);
  }
}

TEST_CASE("DocumentRoot is per vhost and server, resolved against ServerRoot") {
  ParseResult r = parse("DocumentRoot htdocs/\n<VirtualHost *:80>\nDocumentRoot /var/www/\n"
                        "</VirtualHost>\n<VirtualHost *:81>\n</VirtualHost>\n");
  CHECK(messages(r).empty());
  CHECK(r.config.server.document_root.value_or("") == "/srv/root/htdocs");
  REQUIRE(r.config.vhosts.size() == 2);
  CHECK(r.config.vhosts[0].document_root.value_or("") == "/var/www");
  CHECK_FALSE(r.config.vhosts[1].document_root.has_value());
}

TEST_CASE("the front end's pages are handlers of <Location> and <LocationMatch> (issue 14)") {
  struct Case {
    const char* text;
    const char* handler;
  } cases[] = {
      {"<Location /server-status>\nSetHandler server-status\n</Location>\n", "server-status"},
      {"<Location /metrics>\nSetHandler WSGID-Metrics\n</Location>\n", "wsgid-metrics"},
      {"<LocationMatch ^/ready$>\nSetHandler wsgid-ready\n</LocationMatch>\n", "wsgid-ready"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.text));
    ParseResult r = parse(c.text);
    CHECK(messages(r).empty());
    REQUIRE(r.config.server.locations.size() == 1);
    CHECK(r.config.server.locations[0].settings.handlers.set_handler.value_or("") == c.handler);
  }
}

TEST_CASE("every handler directive error, with its exact text") {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"<Location /a>\nSetHandler server-info\n</Location>\n",
       "SetHandler server-info is refused: Apache would answer this path with its "
       "server-info page, which wsgid does not have (its own pages: server-status, "
       "wsgid-metrics, wsgid-ready) (fail closed: wsgid knows only the handlers wsgi-script "
       "and None, and its pages server-status, wsgid-metrics and wsgid-ready)"},
      {"<Location /a>\nSetHandler cgi-script\n</Location>\n",
       "SetHandler cgi-script is refused: Apache would run these files as CGI programs; wsgid "
       "runs WSGI scripts only (fail closed: wsgid knows only the handlers wsgi-script and "
       "None, and its pages server-status, wsgid-metrics and wsgid-ready)"},
      {"AddHandler type-map .var\n",
       "AddHandler type-map is refused: Apache would answer this path with the handler "
       "'type-map', which wsgid does not have (fail closed: wsgid knows only the handlers "
       "wsgi-script and None, and its pages server-status, wsgid-metrics and wsgid-ready)"},
      {"<Directory /srv>\nSetHandler server-status\n</Directory>\n",
       "SetHandler server-status answers a URL and belongs in <Location> (here it is in "
       "<Directory>)"},
      {"SetHandler wsgid-metrics\n",
       "SetHandler wsgid-metrics answers a URL and belongs in <Location> (here it is at server "
       "level)"},
      {"AddHandler wsgi-script\n", "AddHandler takes at least 2 arguments, not 1"},
      {"AddHandler wsgi-script .\n",
       "AddHandler expects file extensions such as .wsgi, not '.'"},
      {"SetHandler\n", "SetHandler takes one argument, not 0"},
      {"<Location /a>\nDocumentRoot /var/www\n</Location>\n",
       "DocumentRoot cannot appear inside <Location>; it belongs at server level or in "
       "<VirtualHost>"},
      {"DirectoryIndex disabled index.html\n",
       "DirectoryIndex disabled takes no other argument"},
      {"DirectorySlash Maybe\n", "DirectorySlash only accepts ON, OFF, or 'NotFound'"},
      {"FileETag +None\n", "FileETag keyword 'None' cannot be used with '+' or '-'"},
      {"FileETag -All\n", "FileETag keyword 'All' cannot be used with '+' or '-'"},
      {"FileETag Digest\n",
       "FileETag Digest is refused: Apache would hash each file's contents for its ETag, and "
       "wsgid builds ETags from the file's metadata only"},
      {"FileETag MTime Checksum\n", "Unknown keyword 'Checksum' for FileETag directive"},
      {"DirectoryIndex /cgi-bin/index.pl\n",
       "DirectoryIndex /cgi-bin/index.pl is refused: Apache would answer the directory's URL "
       "with this URL, and wsgid takes index file names only (index.html) (fail closed: the "
       "URL's answer could differ from Apache's)"},
      {"<Location /a>\nOptions ExecCGI\n</Location>\n",
       "Options is refused: Apache would refuse to follow symbolic links in this directory when "
       "it serves a file (Options without FollowSymLinks), and wsgid's static files follow "
       "them, and wsgid does not implement it (fail closed: ignoring it could serve this site "
       "more openly than Apache did)"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.text));
    ParseResult r = parse(c.text);
    std::vector<std::string> m = messages(r);
    REQUIRE(m.size() == 1);
    CHECK(m[0] == c.error);
    CHECK(r.diags.all().back().severity == Severity::kError);
  }
}

TEST_CASE("Options Indexes keeps its warning: wsgid never lists directories") {
  ParseResult r = parse("<Location /a>\nOptions Indexes FollowSymLinks ExecCGI\n</Location>\n");
  std::vector<std::string> m = messages(r);
  REQUIRE(m.size() == 1);
  CHECK(m[0].find("wsgid never lists directories") != std::string::npos);
  CHECK(r.config.server.locations[0].settings.handlers.exec_cgi == true);
}

TEST_CASE("a group a handler scope names serves requests: no 'serves no request' warning") {
  auto unreached = [](const std::string& text) {
    ParseResult r = parse(text);
    int n = 0;
    for (const Diagnostic& d : r.diags.all())
      if (d.message.find("serves no request") != std::string::npos) ++n;
    return n;
  };
  const std::string groups = "WSGIDaemonProcess site\n";
  CHECK(unreached(groups + "<Directory /srv/www>\nWSGIProcessGroup site\n</Directory>\n") == 1);
  CHECK(unreached(groups + "<Directory /srv/www>\nAddHandler wsgi-script .wsgi\n"
                           "Options +ExecCGI\nWSGIProcessGroup site\n</Directory>\n") == 0);
  CHECK(unreached(groups + "Alias /k /srv/k\n<Location /k>\nSetHandler wsgi-script\n"
                           "Options +ExecCGI\nWSGIProcessGroup site\n</Location>\n") == 0);
}
