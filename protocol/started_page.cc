// memfd_create(2) with seals (F_SEAL_SHRINK: a mapping never loses its page
// under the other side), mmap(2) MAP_SHARED, std::atomic_ref for the word.
#include "protocol/started_page.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace wsgid::proto {

StartedPage::~StartedPage() { reset(); }

StartedPage::StartedPage(StartedPage&& o) noexcept : word_(o.word_), fd_(o.fd_) {
  o.word_ = nullptr;
  o.fd_ = -1;
}

StartedPage& StartedPage::operator=(StartedPage&& o) noexcept {
  if (this != &o) {
    reset();
    word_ = o.word_;
    fd_ = o.fd_;
    o.word_ = nullptr;
    o.fd_ = -1;
  }
  return *this;
}

void StartedPage::reset() {
  if (word_) ::munmap(word_, kSize);
  word_ = nullptr;
  close_fd();
}

void StartedPage::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<StartedPage> StartedPage::create() {
  int fd = ::memfd_create("wsgid-started", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Status::sys("memfd_create", "started page");
  StartedPage page;
  page.fd_ = fd;
  if (::ftruncate(fd, kSize) != 0) return Status::sys("ftruncate", "started page");
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return Status::sys("fcntl(F_ADD_SEALS)", "started page");
  void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::sys("mmap", "started page");
  page.word_ = static_cast<uint32_t*>(p);
  return page;
}

Result<StartedPage> StartedPage::map(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::sys("fstat", "started page");
  // A regular file (a memfd) that cannot shrink below the page: a store into
  // the mapping can never fault (SIGBUS) because the front end truncated it.
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kSize) || seals < 0 || !(seals & F_SEAL_SHRINK))
    return Status::error("started page: not a sealed regular file of at least 4096 bytes");
  void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::sys("mmap", "started page");
  StartedPage page;
  page.word_ = static_cast<uint32_t*>(p);
  return page;
}

void StartedPage::mark(uint32_t id) {
  // Release: the store is visible before anything the application then does.
  std::atomic_ref<uint32_t>(*word_).store(id, std::memory_order_release);
}

bool StartedPage::marked(uint32_t id) const {
  return std::atomic_ref<uint32_t>(*word_).load(std::memory_order_acquire) == id;
}

void StartedPage::clear(uint32_t id) {
  std::atomic_ref<uint32_t>(*word_).compare_exchange_strong(id, 0, std::memory_order_acq_rel);
}

namespace {

constexpr uint64_t kOffered = 1;
constexpr uint64_t kWithdrawn = 2;

uint64_t slot_value(uint32_t id, uint64_t state) { return (static_cast<uint64_t>(id) << 32) | state; }

}  // namespace

int StartedPage::offer(uint32_t id) {
  for (int i = 0; i < kSlots; ++i) {
    std::atomic_ref<uint64_t> s(*slot(i));
    uint64_t expected = 0;
    // Release: the offer is visible before the request's bytes are sent.
    if (s.load(std::memory_order_acquire) == 0 &&
        s.compare_exchange_strong(expected, slot_value(id, kOffered), std::memory_order_acq_rel))
      return i;
  }
  return -1;
}

bool StartedPage::withdraw(int i, uint32_t id) {
  if (i < 0 || i >= kSlots) return false;
  uint64_t expected = slot_value(id, kOffered);
  return std::atomic_ref<uint64_t>(*slot(i)).compare_exchange_strong(expected, slot_value(id, kWithdrawn),
                                                                     std::memory_order_acq_rel);
}

bool StartedPage::claim(uint32_t id) {
  for (int i = 0; i < kSlots; ++i) {
    std::atomic_ref<uint64_t> s(*slot(i));
    uint64_t v = s.load(std::memory_order_acquire);
    if (v == 0 || (v >> 32) != id) continue;
    if (v == slot_value(id, kOffered) && s.compare_exchange_strong(v, 0, std::memory_order_acq_rel)) return true;
    return v != slot_value(id, kWithdrawn);  // withdrawn first (or a stranger's bits: served)
  }
  return true;
}

void StartedPage::release_withdrawn(uint32_t id) {
  for (int i = 0; i < kSlots; ++i) {
    uint64_t expected = slot_value(id, kWithdrawn);
    if (std::atomic_ref<uint64_t>(*slot(i)).compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return;
  }
}

}  // namespace wsgid::proto
