// FdMessage: a short text and open file descriptors, sent together over an
// AF_UNIX SOCK_SEQPACKET socket (SCM_RIGHTS), one message per send.
//
// The master opens the front end's CustomLog files (as root, as Apache's parent
// does) and hands them over with send_fds(); the front end takes them with
// receive_fds() (protocol/PROTOCOL.md 7.6). The kernel gives the receiver its own
// descriptors (close-on-exec); the sender keeps and still owns its own.
// Both calls are non-blocking and never wait; any thread.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wsgid {

// At most this many descriptors travel in one message (Linux's SCM_MAX_FD is 253).
constexpr size_t kMaxPassedFds = 250;
// The text travels in one datagram of at most this many bytes.
constexpr size_t kMaxFdMessageText = 60000;

struct FdMessage {
  std::string text;
  std::vector<int> fds;  // owned by whoever holds the message
};

// Sends text and fds as one message. Errors: "sendmsg(WHAT): ..." (EAGAIN when the
// peer has not read earlier messages), "fd message: N descriptors, at most 250",
// "fd message: N bytes of text, at most 60000".
Status send_fds(int sock, std::string_view what, std::string_view text, const std::vector<int>& fds);

// Receives one message. *got is false when none is waiting (EAGAIN); on success
// the caller owns out->fds. Errors: "recvmsg(WHAT): ...", "recvmsg(WHAT): message
// truncated" (its descriptors are closed), "recvmsg(WHAT): end of file".
Status receive_fds(int sock, std::string_view what, FdMessage* out, bool* got);

// Closes every descriptor of m and clears it.
void close_fds(FdMessage* m);

// The one sendmsg() under send_fds(), for any AF_UNIX socket (a stream one too:
// the front end's HELLO with its started page, protocol/started_page.h): bytes
// with fds attached, never waiting -> the count of bytes sent (the descriptors
// went with the first of them), or -1 with errno set (none went). At most
// kMaxPassedFds descriptors.
ssize_t send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds);
// The one recvmsg() under receive_fds(): up to n bytes into dst, and the
// descriptors that came with them appended to *fds (close-on-exec; at most
// kMaxPassedFds) -> as recvmsg(); *msg_flags gets its msg_flags (MSG_CTRUNC:
// some descriptors were dropped). flags as recv()'s.
ssize_t recv_with_fds(int sock, char* dst, size_t n, int flags, std::vector<int>* fds, int* msg_flags);
// The same into iov[0..iov_count) (a worker's read of a body payload and the
// frame header after it, worker/frame_channel.h).
ssize_t recv_with_fds(int sock, struct iovec* iov, size_t iov_count, int flags, std::vector<int>* fds,
                      int* msg_flags);

}  // namespace wsgid
