// Moving body bytes between a client connection and a worker connection
// inside the kernel (splice(2) through a pipe), so that they never pass through
// the front end's memory: a body crosses the front end as page references
// instead of two copies (read into a buffer, written out of it). Responses:
// UpstreamConn::pass_body and HttpConn::upstream_splice; Content-Length request
// bodies: HttpConn::splice_request_body and UpstreamConn::send_spliced.
// docs/decisions.md 53.
//
// Each loop thread has one pipe, made on first use, that is empty between
// calls: fill() moves bytes from a socket into it, drain() moves them on to
// another socket and reads whatever that socket did not take back out into a
// string (the caller queues it as it queues any write), so no byte ever stays
// in the pipe. A thread whose pipe cannot be made (descriptors exhausted)
// reports it unavailable, and the caller copies as before, until a later try
// succeeds. Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace wsgid::frontend::body_splice {

// A body part smaller than this is copied: below it a splice's system calls
// cost more than the copy they save. Responses: a frame with at least this
// many payload bytes still in the worker's socket; requests: the last bytes of
// a Content-Length body, left to the parser.
constexpr size_t kMinBytes = 16 * 1024;

// Whether this thread has its pipe (making it now if needed).
bool available();
// Moves up to max bytes waiting in socket `from` into the pipe, without
// waiting: the count moved, 0 when there is none now (EAGAIN), at the end of
// the stream, or after an error (the caller's next read of `from` sees those).
size_t fill(int from, size_t max);
// Moves the n bytes fill() put in the pipe to socket `to`, without waiting;
// what `to` does not take now (all of it when `to` is -1) is appended to *left. Returns 0, or the errno
// of a failed write to `to` (the bytes are then dropped: the pipe is empty
// either way).
int drain(int to, size_t n, std::string* left);

}  // namespace wsgid::frontend::body_splice
