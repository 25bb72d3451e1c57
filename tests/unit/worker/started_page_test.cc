// The started page (protocol/started_page.h) as the front end and a worker use
// it: made, sent with HELLO over a real socketpair, taken by FrameChannel with
// the HELLO, mapped, marked; and what each side does with a descriptor that is
// missing, extra or not a sealed page.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/fd_passing.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "tests/unit/worker/socket_pair.h"
#include "worker/frame_channel.h"

using namespace wsgid;
using wsgid::proto::StartedPage;
using wsgid::worker::FrameChannel;

namespace {

using Pair = wsgid::worker::testing::SocketPair;

std::string hello_frame() {
  std::string out;
  proto::append_hello(&out);
  return out;
}

// The descriptors this process has open.
size_t open_fds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("started page: sent with HELLO, taken by the worker's first read, marked for the front end") {
  Pair p;
  auto page = StartedPage::create();
  REQUIRE(page);
  REQUIRE(page->fd() >= 0);
  CHECK((fcntl(page->fd(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_FALSE(page->marked(1));
  CHECK(page->marked(0));  // a new page holds no request id

  std::string hello = hello_frame();
  REQUIRE(send_with_fds(p.front, hello, {page->fd()}) == static_cast<ssize_t>(hello.size()));
  page->close_fd();
  CHECK(page->fd() == -1);
  std::string head;
  proto::append_frame(&head, proto::FrameType::kRequestHead, 42, "x");
  REQUIRE(write(p.front, head.data(), head.size()) == static_cast<ssize_t>(head.size()));

  FrameChannel ch(p.worker);
  ch.accept_fds();
  proto::Frame f;
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kHello);
  int fd = ch.take_fd();
  REQUIRE(fd >= 0);
  CHECK(ch.take_fd() == -1);  // once
  CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  auto mapped = StartedPage::map(fd);
  close(fd);
  REQUIRE(mapped);
  CHECK(mapped->fd() == -1);
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);  // the request behind it, intact
  CHECK(f.type == proto::FrameType::kRequestHead);
  CHECK(f.request_id == 42);

  mapped->mark(42);
  CHECK(page->marked(42));
  CHECK_FALSE(page->marked(41));
  page->clear(41);  // not the marked one: kept
  CHECK(page->marked(42));
  page->clear(42);
  CHECK_FALSE(mapped->marked(42));
  CHECK_FALSE(page->marked(42));
  mapped->mark(43);
  StartedPage moved = std::move(*page);  // the mapping moves with it
  CHECK_FALSE(page->valid());
  CHECK(moved.marked(43));
}

TEST_CASE("started page: a request sent ahead is either claimed by the worker or withdrawn, never both") {
  auto page = StartedPage::create();
  REQUIRE(page);
  auto worker = StartedPage::map(page->fd());
  REQUIRE(worker);

  // Not sent ahead: the worker's.
  CHECK(worker->claim(7));

  // Claimed first: the front end can no longer withdraw it; the slot is free.
  int a = page->offer(10);
  REQUIRE(a >= 0);
  CHECK(worker->claim(10));
  CHECK_FALSE(page->withdraw(a, 10));
  CHECK(page->offer(11) == a);  // the claim freed the slot

  // Withdrawn first: the worker skips it, then frees the slot.
  int b = page->offer(12);
  REQUIRE(b >= 0);
  REQUIRE(b != a);
  CHECK(page->withdraw(b, 12));
  CHECK_FALSE(page->withdraw(b, 12));  // once
  CHECK_FALSE(worker->claim(12));
  CHECK_FALSE(worker->claim(12));  // still withdrawn until released
  CHECK(page->offer(13) != b);
  worker->release_withdrawn(12);
  CHECK(page->offer(14) == b);

  // A withdraw names its request: a stale slot index does not touch another's.
  CHECK_FALSE(page->withdraw(a, 99));
  CHECK(worker->claim(11));

  // Every slot in use: nothing more is sent ahead.
  auto full = StartedPage::create();
  REQUIRE(full);
  for (int i = 0; i < StartedPage::kSlots; ++i) CHECK(full->offer(static_cast<uint32_t>(100 + i)) == i);
  CHECK(full->offer(200) == -1);
  CHECK_FALSE(full->withdraw(-1, 200));
}

TEST_CASE("started page: a channel not told to take one drops it; extra descriptors are closed") {
  SUBCASE("no accept_fds(): the kernel drops the descriptor, the bytes still arrive") {
    Pair p;
    auto page = StartedPage::create();
    REQUIRE(page);
    std::string hello = hello_frame();
    REQUIRE(send_with_fds(p.front, hello, {page->fd()}) == static_cast<ssize_t>(hello.size()));
    FrameChannel ch(p.worker);
    proto::Frame f;
    REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
    CHECK(f.type == proto::FrameType::kHello);
    CHECK(ch.take_fd() == -1);
  }
  SUBCASE("two descriptors: the first is kept, the second closed; close() closes one never taken") {
    Pair p;
    int extra[2];
    REQUIRE(pipe(extra) == 0);
    std::string hello = hello_frame();
    REQUIRE(send_fds(p.front, "test", hello, {extra[0], extra[1]}));
    close(extra[0]);
    FrameChannel ch(p.worker);
    ch.accept_fds();
    proto::Frame f;
    REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
    // The first (the pipe's read end) is kept; the second (its write end) was
    // closed: with this test's write end closed too, the kept read end is at
    // end of file, which it would not be while a copy of the write end lived.
    int kept = ch.take_fd();
    REQUIRE(kept >= 0);
    struct stat st;
    REQUIRE(fstat(kept, &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    close(extra[1]);
    fcntl(kept, F_SETFL, O_NONBLOCK);
    char b;
    CHECK(read(kept, &b, 1) == 0);
    close(kept);
    // A descriptor received and never taken is closed with the channel.
    Pair q;
    auto page = StartedPage::create();
    REQUIRE(page);
    REQUIRE(send_with_fds(q.front, hello, {page->fd()}) > 0);
    const size_t before = open_fds();
    FrameChannel ch2(q.worker);
    ch2.accept_fds();
    REQUIRE(ch2.read(&f, 1000) == FrameChannel::Read::kFrame);
    CHECK(open_fds() == before + 1);  // the page's descriptor, received
    ch2.close();                      // closes the socket and the page's descriptor
    q.worker = -1;
    CHECK(open_fds() == before - 1);
    CHECK(ch2.take_fd() == -1);
  }
}

TEST_CASE("a descriptor belongs to the frame it came with, not to one read with it") {
  // A plain HELLO and a request head, then a BODY_SOCKET sent alone with a
  // descriptor, then the END: one recv() brings the first three (the kernel
  // stops after the message with the descriptor). Only the BODY_SOCKET takes it.
  Pair p;
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  std::string first = hello_frame();
  proto::append_frame(&first, proto::FrameType::kRequestHead, 5, "x");
  REQUIRE(write(p.front, first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  std::string bs;
  proto::append_body_socket(&bs, 5, {100, 1000});
  REQUIRE(send_with_fds(p.front, bs, {pipefd[0]}) == static_cast<ssize_t>(bs.size()));
  close(pipefd[0]);
  std::string end;
  proto::append_header(&end, proto::FrameType::kRequestEnd, 5, 0);
  REQUIRE(write(p.front, end.data(), end.size()) == static_cast<ssize_t>(end.size()));

  FrameChannel ch(p.worker);
  ch.accept_fds();
  proto::Frame f;
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kHello);
  CHECK(ch.take_fd() == -1);  // not the HELLO's: no started page
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestHead);
  CHECK(ch.take_fd() == -1);
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kBodySocket);
  int fd = ch.take_fd();
  REQUIRE(fd >= 0);
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  close(fd);
  CHECK(ch.take_fd() == -1);
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestEnd);

  // One that came with a frame nobody took it from is closed once the
  // channel reads past that frame.
  int pipe2[2];
  REQUIRE(pipe(pipe2) == 0);
  std::string head;
  proto::append_frame(&head, proto::FrameType::kRequestHead, 6, "y");
  REQUIRE(send_with_fds(p.front, head, {pipe2[0]}) == static_cast<ssize_t>(head.size()));
  close(pipe2[0]);
  REQUIRE(write(p.front, end.data(), end.size()) == static_cast<ssize_t>(end.size()));
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestHead);
  const size_t before = open_fds();
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestEnd);
  CHECK(ch.take_fd() == -1);
  CHECK(open_fds() == before - 1);  // the stale one closed
  close(pipe2[1]);
  close(pipefd[1]);
}

TEST_CASE("started page: map() refuses what is not a sealed page") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  auto r = StartedPage::map(fds[0]);
  REQUIRE_FALSE(r);
  CHECK(r.status().message() == "started page: not a sealed regular file of at least 4096 bytes");
  close(fds[0]);
  close(fds[1]);

  int loose = memfd_create("t", MFD_CLOEXEC);  // no seals: it could shrink under the mapping
  REQUIRE(loose >= 0);
  REQUIRE(ftruncate(loose, 4096) == 0);
  CHECK_FALSE(StartedPage::map(loose));
  close(loose);

  int small = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(small >= 0);
  REQUIRE(ftruncate(small, 8) == 0);
  REQUIRE(fcntl(small, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
  CHECK_FALSE(StartedPage::map(small));
  close(small);

  auto bad = StartedPage::map(-1);
  REQUIRE_FALSE(bad);
  CHECK(bad.status().message() == "fstat(started page): Bad file descriptor");
}
