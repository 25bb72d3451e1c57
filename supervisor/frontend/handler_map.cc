#include "supervisor/frontend/handler_map.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "common/paths.h"

namespace wsgid::frontend {

FileWalk walk_file(std::string_view path) {
  FileWalk w;
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    // path[pos] == '/': the next component runs to the next '/'.
    size_t end = path.find('/', pos + 1);
    if (end == std::string_view::npos) end = path.size();
    if (end == pos + 1) {  // a trailing '/' (or "//"): the directory itself
      pos = end;
      continue;
    }
    prefix.assign(path.substr(0, end));
    struct stat st;
    if (stat(prefix.c_str(), &st) != 0) {
      w.kind = errno == EACCES ? FileWalk::Kind::kDenied : FileWalk::Kind::kMissing;
      w.file = prefix;
      return w;
    }
    if (!S_ISDIR(st.st_mode)) {
      w.kind = FileWalk::Kind::kFile;
      w.file = prefix;
      w.rest.assign(path.substr(end));
      return w;
    }
    pos = end;
  }
  w.kind = FileWalk::Kind::kDirectory;
  w.file.assign(path);
  while (w.file.size() > 1 && w.file.back() == '/') w.file.pop_back();
  if (w.file.empty()) w.file = "/";
  return w;
}

std::vector<std::string> file_extensions(std::string_view file) {
  std::string_view base = base_name(file);
  std::vector<std::string> exts;
  size_t dot = base.find('.', 1);  // a leading dot is part of the name
  while (dot != std::string_view::npos) {
    size_t next = base.find('.', dot + 1);
    std::string e(base.substr(dot, next == std::string_view::npos ? next : next - dot));
    for (char& c : e)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (e.size() > 1) exts.push_back(std::move(e));
    dot = next;
  }
  return exts;
}

bool is_wsgi_script(const model::HandlerSettings& h, std::string_view file) {
  if (h.set_handler && *h.set_handler == "wsgi-script") return true;
  if (h.wsgi_extensions.empty()) return false;
  for (const std::string& e : file_extensions(file))
    if (std::find(h.wsgi_extensions.begin(), h.wsgi_extensions.end(), e) !=
        h.wsgi_extensions.end())
      return true;
  return false;
}

bool is_page_handler(std::string_view h) {
  return h == "server-status" || h == "wsgid-metrics" || h == "wsgid-ready";
}

std::vector<std::string> index_names(const model::HandlerSettings& h) {
  if (h.directory_index) return *h.directory_index;
  return {"index.html"};
}

int etag_bits(const model::HandlerSettings& h) {
  return (h.file_etag.value_or(model::kETagDefault) & ~h.file_etag_remove) | h.file_etag_add;
}

}  // namespace wsgid::frontend
