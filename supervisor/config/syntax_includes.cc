// Include and IncludeOptional as httpd's process_resource_config_{nofnmatch,
// fnmatch}: relative paths against the server root (ServerRoot changes it for
// what follows), wildcards expanded and sorted, directories read entry by entry,
// include cycles and the size and count limits reported; and reading one file
// from disk. See syntax_reader.h.
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "supervisor/config/syntax_reader.h"

namespace wsgid::config::syntax_detail {

// ServerRoot outside any section (httpd: EXEC_ON_READ, GLOBAL_ONLY) is the
// base of the relative Include paths after it; relative, it is relative to the
// base before it. A wrong one is the parser's to report.
void Reader::handle_server_root(const Directive& d) {
  if (open_sections_ > 0 || d.args.size() != 1 || d.args[0].text.empty()) return;
  std::string root = d.args[0].text;
  if (root[0] != '/' && !base_dir_.empty()) {
    root = base_dir_.back() == '/' ? base_dir_ + root : base_dir_ + "/" + root;
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  base_dir_ = root;
}
void Reader::handle_include(const Directive& d, bool optional, int depth, int nesting,
                            std::vector<Directive>* out) {
  if (!options_.allow_include) {
    diags_->error(d.loc, d.name + " is not allowed here");
    return;
  }
  if (d.args.size() != 1) {
    diags_->error(d.loc, d.name + " takes one argument, the file, directory or wildcard to include");
    return;
  }
  const Arg& arg = d.args[0];
  if (arg.text.empty()) {
    diags_->error(arg.loc, d.name + " needs a non-empty path");
    return;
  }
  std::string path = arg.text;
  if (path[0] != '/' && !base_dir_.empty()) {
    path = base_dir_.back() == '/' ? base_dir_ + path : base_dir_ + "/" + path;
  }
  bool wildcard = path.find_first_of("*?[") != std::string::npos;
  if (!wildcard) {
    include_path(path, arg.loc, optional, depth, nesting, out);
    return;
  }
  glob_t g{};
  int rc = glob(path.c_str(), 0, nullptr, &g);
  if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
    globfree(&g);
    if (!optional) {
      diags_->error(arg.loc, "Include: no file matches the wildcard '" + path + "'",
                    {"use IncludeOptional if matching nothing is fine"});
    }
    return;
  }
  if (rc != 0) {
    int err = errno;
    globfree(&g);
    diags_->error(arg.loc, "glob(" + path + "): " +
                               (rc == GLOB_NOSPACE ? std::string("out of memory") : std::strerror(err)));
    return;
  }
  std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  globfree(&g);
  std::sort(matches.begin(), matches.end());  // byte order, as httpd's fname_alphasort
  for (const std::string& m : matches) include_path(m, arg.loc, optional, depth, nesting, out);
}

void Reader::include_path(const std::string& path, const SourceLoc& from, bool optional, int depth,
                          int nesting, std::vector<Directive>* out) {
  // Past a limit nothing more is read, not even directories (Include / ...).
  if (files_ >= kMaxFiles || total_bytes_ > kMaxTotalSize) {
    read_file(path, from, depth + 1, nesting, out);  // reports the limit once
    return;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (optional && (err == ENOENT || err == ENOTDIR)) return;
    diags_->error(from, "could not open configuration file '" + path + "': " + std::strerror(err));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    include_directory(path, from, depth, nesting, out);
    return;
  }
  read_file(path, from, depth + 1, nesting, out);
}

// Every entry of a directory, sorted, subdirectories recursively (as httpd).
void Reader::include_directory(const std::string& path, const SourceLoc& from, int depth,
                               int nesting, std::vector<Directive>* out) {
  if (depth >= kMaxIncludeDepth) {
    diags_->error(from, "Include nested deeper than " + std::to_string(kMaxIncludeDepth) +
                            " levels at '" + path + "'");
    return;
  }
  DIR* dir = opendir(path.c_str());
  if (!dir) {
    diags_->error(from, "could not open configuration directory '" + path + "': " + std::strerror(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
    if (names.size() > static_cast<size_t>(kMaxFiles)) break;
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string child = path.back() == '/' ? path + n : path + "/" + n;
    include_path(child, from, false, depth + 1, nesting, out);
  }
}

void Reader::read_file(const std::string& path, const SourceLoc& from, int depth, int nesting,
                       std::vector<Directive>* out) {
  if (depth > kMaxIncludeDepth) {
    diags_->error(from, "Include nested deeper than " + std::to_string(kMaxIncludeDepth) +
                            " files at '" + path + "'");
    return;
  }
  if (total_bytes_ > kMaxTotalSize) return;  // reported when it happened
  if (files_ >= kMaxFiles) {
    if (!reported_too_many_files_) {
      diags_->error(from, "too many configuration files (more than " + std::to_string(kMaxFiles) +
                              "); '" + path + "' and later ones are not read");
      reported_too_many_files_ = true;
    }
    return;
  }
  FileKey key;
  int fd = open_config_file(path, from, &key);
  if (fd < 0) return;
  std::string text;
  bool read_ok = read_config_bytes(fd, path, from, &text);
  close(fd);
  if (!read_ok) return;
  total_bytes_ += text.size();
  if (total_bytes_ > kMaxTotalSize) {
    if (!reported_total_size_) {
      diags_->error(from, "configuration larger than " + std::to_string(kMaxTotalSize >> 20) +
                              " MiB in all; '" + path + "' and later files are not read");
      reported_total_size_ = true;
    }
    return;
  }
  ++files_;
  diags_->add_source(path, text);
  chain_.emplace_back(key, path);
  read_text(path, text, depth, nesting, out);
  chain_.pop_back();
}

// Opens path for read_file: a regular file, not one being read already (an
// Include cycle), within kMaxFileSize. Returns the descriptor and sets *key, or
// -1 (reported).
int Reader::open_config_file(const std::string& path, const SourceLoc& from, FileKey* key) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    diags_->error(from, "could not open configuration file '" + path + "': " + std::strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    diags_->error(from, "'" + path + "' is not a regular file");
    return -1;
  }
  *key = FileKey{st.st_dev, st.st_ino};
  for (size_t k = 0; k < chain_.size(); ++k) {
    if (chain_[k].first == *key) {
      close(fd);
      std::string message = "Include cycle: ";
      for (size_t j = k; j < chain_.size(); ++j) message += chain_[j].second + " -> ";
      message += path;
      diags_->error(from, message);
      return -1;
    }
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileSize) {
    close(fd);
    diags_->error(from, "'" + path + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
    return -1;
  }
  return fd;
}

// Reads fd to its end into *text. False (reported) on a read error or past
// kMaxFileSize (a file that grew). fd stays open.
bool Reader::read_config_bytes(int fd, const std::string& path, const SourceLoc& from,
                               std::string* text) {
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      diags_->error(from, "read(" + path + "): " + std::strerror(errno));
      return false;
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
    if (text->size() > kMaxFileSize) {
      diags_->error(from, "'" + path + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
      return false;
    }
  }
  return true;
}

}  // namespace wsgid::config::syntax_detail
