// ReloadingFile<Table>: a text file parsed into an immutable Table, parsed again
// whenever the file changes, so that an edit takes effect at the next lookup as
// it does in Apache (whose mod_authn_file and mod_authz_groupfile read the file
// on every request).
//
// current() stats the path on every call (one stat(2), no read, when nothing
// changed) and reads and parses the file again when its device, inode, size,
// mtime or ctime differ from those of the copy in hand; nanosecond times catch
// a rewrite within the same second, the inode a file renamed into place. A file
// that can no longer be stat'ed or read is an error at once, never answered
// from the old copy (Apache would fail the request too).
//
// Thread-safe: any number of threads may call current() at once (the front end
// calls it from uv_queue_work's thread pool). It blocks on the file system and,
// while one thread reloads, on a mutex; never call it on the loop thread. The
// Table is shared and immutable: a caller may keep the pointer it got as long as
// it likes, a reload only replaces the ReloadingFile's own reference. The
// ReloadingFile must outlive every call in progress.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace wsgid::authn {

// What says that a file changed.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  timespec ctime{};
  bool operator==(const FileStamp& o) const;
};

// stat(2) of path. Error: "stat(PATH): strerror".
Result<FileStamp> stamp_of(const std::string& path);

struct FileText {
  FileStamp stamp;  // fstat(2) of the open file before it was read
  std::string text;
};
// The whole file. Errors: "open(PATH): ...", "fstat(PATH): ...", "read(PATH): ...",
// and "PATH: not a regular file".
Result<FileText> read_text_file(const std::string& path);

template <class Table>
class ReloadingFile {
 public:
  // parse(path, text) turns the file's text into a Table; it cannot fail (a
  // Table records its own diagnostics) and must be thread-safe.
  using Parser = Table (*)(std::string_view path, std::string_view text);

  ReloadingFile(std::string path, Parser parse) : path_(std::move(path)), parse_(parse) {}
  ReloadingFile(const ReloadingFile&) = delete;
  ReloadingFile& operator=(const ReloadingFile&) = delete;

  struct Current {
    std::shared_ptr<const Table> table;  // never null
    bool reloaded = false;               // this call read the file
  };
  // The table for the file as it is now. Errors: those of stamp_of() and
  // read_text_file().
  Result<Current> current() {
    Result<FileStamp> now = stamp_of(path_);
    if (!now) return now.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (table_ && *now == stamp_) return Current{table_, false};
    Result<FileText> file = read_text_file(path_);
    if (!file) return file.status();
    table_ = std::make_shared<const Table>(parse_(path_, file->text));
    stamp_ = file->stamp;
    return Current{table_, true};
  }

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const Parser parse_;
  std::mutex mu_;
  FileStamp stamp_;                     // guarded by mu_
  std::shared_ptr<const Table> table_;  // guarded by mu_
};

}  // namespace wsgid::authn
