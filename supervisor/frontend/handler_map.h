// The handler step of routing (issue 11, part 3): for a URL that Alias,
// AliasMatch or DocumentRoot maps to the file system, Apache's directory walk
// (the longest existing prefix of the mapped path: a regular file, with the
// rest of the path as PATH_INFO, or a directory) and the handler choice
// (mod_wsgi's wsgi-script through SetHandler, or AddHandler on any of the file
// name's extensions as mod_mime reads them). Pure functions over a path and the
// merged HandlerSettings (model::Resolver::handlers); the only system calls are
// stat(2) in walk_file(). The Router (router.h) drives them, loop thread; they
// keep no state and are safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace wsgid::frontend {

// What Apache's directory walk found for a mapped path.
struct FileWalk {
  enum class Kind {
    kFile,       // file is the first regular file (or other non-directory) on the path
    kDirectory,  // the whole path is a directory; file is it, rest is ""
    kMissing,    // a component does not exist (404)
    kDenied,     // stat() of a component failed with EACCES (403)
  };
  Kind kind = Kind::kMissing;
  std::string file;  // the file or directory found; for kMissing/kDenied the component
  std::string rest;  // the path after file: "" or "/..." (PATH_INFO's source)
};

// Walks path (absolute, no dot segments) from the root one component at a time
// with stat(2), which follows symbolic links (Options FollowSymLinks, the only
// setting wsgid accepts), and stops at the first component that is not a
// directory. A trailing '/' after a regular file is a rest of "/".
FileWalk walk_file(std::string_view path);

// mod_mime's extensions of a file name: every dot-separated part of the base
// name after the first, lower case ("app.wsgi.bak" -> ".wsgi", ".bak"; a leading
// dot starts no extension: ".wsgi" has none).
std::vector<std::string> file_extensions(std::string_view file);

// Whether file's handler is wsgi-script under h: SetHandler wsgi-script, or an
// AddHandler wsgi-script extension that any of its extensions matches (SetHandler
// None does not undo AddHandler, as in Apache: it only forces no handler).
bool is_wsgi_script(const model::HandlerSettings& h, std::string_view file);

// Whether a SetHandler value (lower case) names one of the front end's own
// pages: server-status, wsgid-metrics, wsgid-ready (issue 14).
bool is_page_handler(std::string_view handler);

// The index file names a directory is answered with: DirectoryIndex's, else
// mod_dir's default "index.html"; empty for DirectoryIndex disabled.
std::vector<std::string> index_names(const model::HandlerSettings& h);

// FileETag's components for a static file under h (model::kETag* bits; 0 = no
// ETag): the list in force (Apache 2.4's default MTime Size), less what -X
// removed, plus what +X added.
int etag_bits(const model::HandlerSettings& h);

}  // namespace wsgid::frontend
