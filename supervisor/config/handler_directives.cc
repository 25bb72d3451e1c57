// The handler directives (issue 11, part 3): SetHandler, AddHandler, Options,
// DocumentRoot, DirectoryIndex, DirectorySlash and FileETag (issue 12, part 6),
// as Apache's core, mod_mime and mod_dir give
// them their meaning (https://httpd.apache.org/docs/2.4/mod/core.html,
// mod_mime.html, mod_dir.html) and as mod_wsgi uses them ("Configuration
// Guidelines": SetHandler / AddHandler wsgi-script with Options ExecCGI). The
// file handlers wsgid knows are wsgi-script and "None" (Apache's default
// handler: the file itself); the front end's own pages (issue 14) are
// SetHandler server-status (mod_status's page), wsgid-metrics (Prometheus) and
// wsgid-ready (readiness), in <Location> and <LocationMatch> only (they answer
// a URL, not a file). Any other handler name is an error: wsgid cannot answer
// a path the way that handler would. Parser handlers; see parser_internal.h and
// the table in directives.cc; the front end's router (supervisor/frontend/
// handler_map.h) applies what they record.
#include "supervisor/config/parser_internal.h"
#include "common/numbers.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

// Why a handler other than wsgi-script / None is refused, by name.
std::string unknown_handler(std::string_view directive, const std::string& name) {
  std::string n = lower(name);
  std::string why;
  if (n == "server-info" || n == "balancer-manager")
    why = "Apache would answer this path with its " + n +
          " page, which wsgid does not have (its own pages: server-status, wsgid-metrics, "
          "wsgid-ready)";
  else if (n == "cgi-script")
    why = "Apache would run these files as CGI programs; wsgid runs WSGI scripts only";
  else
    why = "Apache would answer this path with the handler '" + name +
          "', which wsgid does not have";
  return std::string(directive) + " " + name + " is refused: " + why +
         " (fail closed: wsgid knows only the handlers wsgi-script and None, and its pages "
         "server-status, wsgid-metrics and wsgid-ready)";
}

bool is_page_handler(const std::string& lower_name) {
  return lower_name == "server-status" || lower_name == "wsgid-metrics" ||
         lower_name == "wsgid-ready";
}

}  // namespace

void Parser::d_set_handler(const Directive& d, Scope& s) {
  if (!nargs(d, "SetHandler", 1, 1)) return;
  std::string h = lower(d.args[0].text);
  if (is_page_handler(h)) {
    if (!iequals(s.section, "Location") && !iequals(s.section, "LocationMatch")) {
      diags_->error(d.args[0].loc,
                    "SetHandler " + d.args[0].text + " answers a URL and belongs in <Location>" +
                        (s.section.empty() ? std::string(" (here it is at server level)")
                                           : " (here it is in <" + s.section + ">)"),
                    {"write <Location /" + std::string(h == "wsgid-metrics" ? "metrics"
                                                       : h == "wsgid-ready" ? "ready"
                                                                             : "server-status") +
                     "> SetHandler " + h + " Require local </Location>, on separate lines"});
      return;
    }
    s.settings->handlers.set_handler = h;
    return;
  }
  if (h != "wsgi-script" && h != "none") {
    diags_->error(d.args[0].loc, unknown_handler("SetHandler", d.args[0].text));
    return;
  }
  s.settings->handlers.set_handler = h;
}

void Parser::d_add_handler(const Directive& d, Scope& s) {
  if (!nargs(d, "AddHandler", 2, SIZE_MAX)) return;
  if (!iequals(d.args[0].text, "wsgi-script")) {
    diags_->error(d.args[0].loc, unknown_handler("AddHandler", d.args[0].text));
    return;
  }
  for (size_t i = 1; i < d.args.size(); ++i) {
    std::string ext = lower(d.args[i].text);
    // mod_mime takes the extension with or without its dot.
    if (ext.empty() || ext == ".") {
      diags_->error(d.args[i].loc, "AddHandler expects file extensions such as .wsgi, not '" +
                                       d.args[i].text + "'");
      continue;
    }
    if (ext[0] != '.') ext.insert(0, ".");
    s.settings->handlers.wsgi_extensions.push_back(ext);
  }
}

void Parser::d_options(const Directive& d, Scope& s) {
  std::vector<std::string> args = arg_texts(d);
  // The fail-closed part (MultiViews, symbolic links, Indexes) is the Apache
  // table's (apache_directives.h); this handler records ExecCGI.
  ApacheVerdict v = options_verdict("Options", args);
  report(d.loc, v);
  if (v.fate == Fate::kRefuse) return;
  std::optional<bool> exec;
  bool plain = false;
  for (const Arg& a : d.args) {
    std::string o = lower(a.text);
    char sign = 0;
    if (!o.empty() && (o[0] == '+' || o[0] == '-')) {
      sign = o[0];
      o.erase(0, 1);
    } else {
      plain = true;
    }
    if (o == "execcgi" || o == "all") exec = sign != '-';
    if (o == "none") exec = false;
  }
  // A list without signs replaces the inherited options: ExecCGI only if listed.
  if (plain && !exec) exec = false;
  if (exec) s.settings->handlers.exec_cgi = *exec;
}

void Parser::d_document_root(const Directive& d, Scope& s) {
  if (!nargs(d, "DocumentRoot", 1, 1)) return;
  std::string root = resolve_path(d.args[0].text);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  s.vh->document_root = root;
}

void Parser::d_directory_index(const Directive& d, Scope& s) {
  if (!nargs(d, "DirectoryIndex", 1, SIZE_MAX)) return;
  std::vector<std::string> names;
  for (const Arg& a : d.args) {
    if (iequals(a.text, "disabled")) {
      if (d.args.size() > 1)
        diags_->error(a.loc, "DirectoryIndex disabled takes no other argument");
      names.clear();
      break;
    }
    // Apache also takes a URL (/cgi-bin/index.pl) and answers it by an internal
    // redirect; wsgid maps the index as a file of the directory only.
    if (a.text.empty() || a.text.find('/') != std::string::npos) {
      diags_->error(a.loc, "DirectoryIndex " + a.text +
                               " is refused: Apache would answer the directory's URL with this "
                               "URL, and wsgid takes index file names only (index.html) "
                               "(fail closed: the URL's answer could differ from Apache's)");
      return;
    }
    names.push_back(a.text);
  }
  s.settings->handlers.directory_index = std::move(names);
}

void Parser::d_directory_slash(const Directive& d, Scope& s) {
  if (!nargs(d, "DirectorySlash", 1, 1)) return;
  std::string v = lower(d.args[0].text);
  if (v != "on" && v != "off" && v != "notfound") {
    // mod_dir's own words.
    diags_->error(d.args[0].loc, "DirectorySlash only accepts ON, OFF, or 'NotFound'");
    return;
  }
  s.settings->handlers.directory_slash = v;
}

// core's set_etag_bits: a keyword without a sign starts the list afresh (and
// clears what +/- earlier on the line added or removed); None and All take no
// sign. Digest (a SHA-1 of the contents, read at every request) is refused.
void Parser::d_file_etag(const Directive& d, Scope& s) {
  if (!nargs(d, "FileETag", 1, SIZE_MAX)) return;
  std::optional<int> bits;
  int add = 0, remove = 0;
  for (const Arg& a : d.args) {
    std::string t = a.text;
    char sign = 0;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
      sign = t[0];
      t.erase(0, 1);
    }
    std::string k = lower(t);
    int bit = 0;
    if (k == "none" || k == "all") {
      if (sign) {
        diags_->error(a.loc, "FileETag keyword '" + t + "' cannot be used with '+' or '-'");
        return;
      }
      bits = k == "none" ? 0 : (model::kETagINode | model::kETagMTime | model::kETagSize);
      add = remove = 0;
      continue;
    }
    if (k == "size") bit = model::kETagSize;
    else if (k == "mtime" || k == "lmtime" || k == "lastmodified") bit = model::kETagMTime;
    else if (k == "inode") bit = model::kETagINode;
    else if (k == "digest") {
      diags_->error(a.loc, "FileETag Digest is refused: Apache would hash each file's contents "
                           "for its ETag, and wsgid builds ETags from the file's metadata only",
                    {"write 'FileETag MTime Size' (Apache's default) instead"});
      return;
    } else {
      // core's own words.
      diags_->error(a.loc, "Unknown keyword '" + t + "' for FileETag directive",
                    {"FileETag takes None, All, INode, MTime and Size, each with an optional "
                     "'+' or '-'"});
      return;
    }
    if (sign == '+') {
      add |= bit;
      remove &= ~bit;
    } else if (sign == '-') {
      remove |= bit;
      add &= ~bit;
    } else {
      bits = bits.value_or(0) | bit;
      add = remove = 0;
    }
  }
  HandlerSettings& h = s.settings->handlers;
  if (bits) {
    h.file_etag = bits;
    h.file_etag_add = add;
    h.file_etag_remove = remove;
  } else {
    h.file_etag.reset();
    h.file_etag_add = add;
    h.file_etag_remove = remove;
  }
}

// core's set_max_ranges: none, default, unlimited or a positive count, in core's
// words when it is none of them.
void Parser::d_max_ranges(const Directive& d, Scope& s) {
  if (!nargs(d, "MaxRanges", 1, 1)) return;
  const Arg& a = d.args[0];
  const std::string k = lower(a.text);
  int v = model::kMaxRangesDefault;
  if (k == "none") v = model::kMaxRangesNone;
  else if (k == "unlimited") v = model::kMaxRangesUnlimited;
  else if (k != "default") {
    int64_t n = 0;
    if (!parse_int(a.text, &n) || n <= 0 || n > 1000000) {
      diags_->error(a.loc, "MaxRanges requires 'none', 'default', 'unlimited' or a positive integer",
                    {"write 'MaxRanges 200' (Apache's default) or one of the keywords"});
      return;
    }
    v = static_cast<int>(n);
  }
  s.settings->handlers.max_ranges = v;
}

}  // namespace wsgid::config::detail
