// RequestIo: the byte side of one request on a front-end connection: request
// body chunks in, response head/body/end or error out (protocol/messages.h).
//
// Driven by the request thread serving the connection; the Python side
// (wsgi_runtime.h) calls it with the GIL held and sets a WaitHook that releases
// the GIL around every wait (FrameChannel), so socket calls that complete at
// once cost no GIL hand-off. Response bytes are gathered in a buffer and written
// when flushed, when the buffer passes kBodyChunk, or at finish(), so a small
// response is one write; send_body() writes a large application block from
// where it lies (writev), without copying it. Request body bytes are handed out
// as views of the channel's read buffer (pending()) or copied once, straight
// into the caller's memory (read_into(): a large payload by the kernel's recv
// itself). Memory is bounded: one body frame in,
// about kBodyChunk plus one app block out. A body handed over with BODY_SOCKET
// is read from the client's socket (PROTOCOL.md 5.5); a response of kSocketMin
// bytes or more asks for that socket and, granted, writes its body there
// (PROTOCOL.md 5.6), a regular file's by sendfile(2) (send_file()). The
// FrameChannel must outlive the RequestIo.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/messages.h"
#include "worker/frame_channel.h"

namespace wsgid::worker {

class RequestIo {
 public:
  enum class Fetch { kData, kEnd, kGone, kTimeout, kError };

  // timeout_ms: socket-timeout for each wait. activity (may be null) is set to
  // the CLOCK_MONOTONIC milliseconds of every read and write (inactivity-timeout).
  RequestIo(FrameChannel* channel, uint32_t request_id, int timeout_ms,
            std::atomic<int64_t>* activity);
  ~RequestIo();
  RequestIo(const RequestIo&) = delete;
  RequestIo& operator=(const RequestIo&) = delete;

  uint32_t request_id() const { return id_; }
  // The request body's length from its head (RequestInfo::body_length; -1
  // unknown): once that many bytes came, its REQUEST_END is next.
  void set_body_length(int64_t n) { body_length_ = n; }
  // A HEAD request. Its response, and one with a status that has no body
  // (1xx, 204, 304), gets no body from the front end: the application's
  // bytes are dropped here instead of crossing the socket to be dropped there,
  // and no socket is asked for them (the head still goes at the first write).
  void set_head_request(bool head) { head_request_ = head; }

  // Called around every wait of the calls below (nullptr: none). The hook must
  // stay valid until it is replaced.
  void set_wait_hook(WaitHook* hook) { hook_ = hook; }

  // --- request body ---
  // Unread bytes of the current body frame: a view of the channel's buffer,
  // valid until the next fetch(), read_into() or skip_body().
  std::string_view pending() const { return pending_.substr(pending_pos_); }
  void consume(size_t n) { pending_pos_ += n; }
  bool body_ended() const { return body_ended_; }
  // Waits for the next body frame (only when pending() is empty and the body has
  // not ended). kData: pending() holds it; kEnd: the body is complete; kGone: the
  // front end cancelled or closed; kTimeout/kError: error() says why.
  Fetch fetch();
  // Copies up to n body bytes into dst, fetching frames until n bytes are there
  // or the body ends. A body frame's payload still in the socket (at least
  // kDirectMin bytes of it) is received straight into dst
  // (FrameChannel::set_direct_min), not through the channel's buffer. Returns the count; *why is kData when n bytes were copied,
  // kEnd when the body ended first, else why it stopped (kGone, kTimeout or
  // kError, error() says why; bytes copied before that are counted).
  size_t read_into(char* dst, size_t n, Fetch* why);
  // Reads and discards the rest of the body (after the app returned), so that the
  // connection is ready for its next request. False when the connection is unusable.
  // A client socket given for the body (BODY_SOCKET, PROTOCOL.md 5.5) is not
  // read here: a handover still running ends (BODY_TAKEN), one not yet begun
  // is closed unread.
  bool skip_body();

  // --- response ---
  // Buffers the head. Only once.
  void set_head(const proto::ResponseHead& head);
  bool head_started() const { return head_set_; }
  // Buffers body bytes as kResponseBody frames of at most kBodyChunk.
  void append_body(std::string_view data);
  size_t buffered() const { return out_.size(); }
  // Writes the buffer. Before writing, and when the request body is complete,
  // looks for a kCancel or EOF from the front end (the client went away).
  Status flush();
  // Buffers kResponseEnd and flushes.
  Status finish();
  // append_body(data), then flush() when flush or when the buffer would pass
  // kBodyChunk, or finish() when end. A block of kCopyLimit bytes or more is
  // not copied into the buffer: it is written from data with the buffer before
  // it (one writev), so data need only stay valid during the call.
  Status send_body(std::string_view data, bool flush, bool end);
  static constexpr size_t kCopyLimit = 4096;
  static constexpr size_t kDirectMin = 4096;
  // The body from a regular file, from offset to its end (at most the
  // Content-Length): with the client's socket granted (PROTOCOL.md 5.6), by
  // sendfile(2) from the file to the socket, *used true. Otherwise, or when
  // fd is not a regular file, nothing is sent and *used is false: the caller
  // sends the body itself (send_body). The head must be set; the response is
  // not finished.
  Status send_file(int fd, int64_t offset, bool* used);
  // A response of at least kSocketMin bytes by its Content-Length, asked
  // for once the request body is complete: its body is written to the
  // client's socket by this side (SOCKET_ASK / RESPONSE_SOCKET /
  // RESPONSE_SENT, PROTOCOL.md 5.6) when the front end grants it.
  static constexpr uint64_t kSocketMin = 128 * 1024;
  // A write to the client's socket of at least this many bytes is made with
  // the wait hook's release around it (the GIL: the kernel's copy of a large
  // block need not hold up the other threads).
  static constexpr size_t kReleaseMin = 64 * 1024;
  // A write to the client's socket waited past the front end's Timeout
  // (error() says so; gone() is true too: the front end closes the client).
  bool client_write_timed_out() const { return resp_timed_out_; }
  // Writes kStarted now: the application is about to be called, so from here on
  // the front end knows the request may have run (PROTOCOL.md 5.3). A failed
  // write marks the front end gone.
  Status started();
  // The request failed: kError. When the head never left the worker, the
  // buffered response is dropped and the front end maps code to the client
  // status; after the head it aborts the client connection. No-op after finish().
  void fail(proto::ErrorCode code, std::string_view message);

  bool gone() const { return gone_; }
  bool finished() const { return finished_; }
  bool failed() const { return failed_; }
  bool completed() const { return finished_ || failed_; }
  const std::string& error() const { return error_; }
  // Why the front end refused the rest of the request body ("request body exceeds
  // LimitRequestBody", ...); "" unless it did.
  const std::string& refusal() const { return refusal_; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  void touch();
  // A frame of another request, met while this one looks for its own (a
  // CANCEL, a RESPONSE_SOCKET): a request the front end sent ahead (PROTOCOL.md
  // 5.7), kept in the channel for the connection's next turn -> true.
  bool for_later(const proto::Frame& f);
  // fetch() without its last step: kData may leave pending() empty with
  // the channel's payload_left() > 0 (the payload is in the socket, for
  // read_direct()).
  Fetch next_piece();
  // Reads the REQUEST_END when the whole body came (RequestInfo::body_length):
  // true when the body has ended.
  bool read_end_if_body_came();
  // Receives up to n body bytes into dst (*got of them): the payload_left() bytes,
  // then on into the next body frame when n reaches past them.
  Fetch read_direct(char* dst, size_t n, size_t* got);
  // Whether to ask for the client's socket before the head goes out: a
  // Content-Length of kSocketMin or more, the request body complete (its
  // REQUEST_END read here when all of its bytes came), no BODY_SOCKET in use.
  bool want_socket();
  // Writes the head and SOCKET_ASK, then waits for the RESPONSE_SOCKET.
  Status ask_socket();
  // Writes what is left of the head RESPONSE_SOCKET gave, then body bytes, to
  // the client's socket (at most what is left of the Content-Length; more is
  // dropped, as the front end would).
  Status write_client(std::string_view data);
  // Waits (up to the RESPONSE_SOCKET's timeout) until the client's socket
  // takes more: true; false with error_ set (resp_timed_out_ on a timeout).
  bool wait_client_writable();
  // A write to the client's socket failed: RESPONSE_SENT (how: kTimeout after
  // a timeout, else kClientClosed) goes now, the request ends (gone()).
  Status client_write_failed(proto::TakenHow how);
  // Done with the response's client socket: closes it and appends
  // RESPONSE_SENT to out_.
  void end_response_socket(proto::TakenHow how);
  // Reads up to n body bytes from the client's socket a BODY_SOCKET gave
  // (at most what is left of the body), waiting up to its timeout.
  Fetch read_client(char* dst, size_t n, size_t* got);
  // A BODY_SOCKET frame: takes the descriptor that came with it.
  Fetch begin_handover(std::string_view payload);
  // Done with the client's socket: closes it and appends BODY_TAKEN to out_.
  void end_handover(proto::TakenHow how);
  // A read that brought nothing (kEof, kTimeout, kWoken, kError) as a Fetch,
  // gone_ and error_ set.
  Fetch read_failed(FrameChannel::Read r);
  bool check_cancel();
  Status write_out(bool look_for_cancel);
  // Writes out_ then data (as body frames, then END when end) without copying data.
  Status write_with(std::string_view data, bool end);

  FrameChannel* ch_;
  uint32_t id_;
  int timeout_ms_;
  std::atomic<int64_t>* activity_;
  WaitHook* hook_ = nullptr;
  std::string_view pending_;
  size_t pending_pos_ = 0;
  std::string scratch_;     // fetch()'s buffer for payload bytes in the socket
  bool body_ended_ = false;
  int64_t body_length_ = -1;
  // The client's socket while this request's body is read from it (-1: not).
  int client_fd_ = -1;
  uint64_t client_left_ = 0;
  uint64_t client_taken_ = 0;
  int client_timeout_ms_ = -1;
  bool skipping_ = false;
  // The response: its Content-Length (-1: none), and the client's socket
  // while its body is written to it (RESPONSE_SOCKET).
  int64_t resp_length_ = -1;
  bool head_request_ = false;
  bool resp_no_body_ = false;  // set_head_request() or the status: body bytes are dropped
  bool resp_asked_ = false;
  bool resp_out_ = false;  // granted: the body goes to the client's socket (resp_fd_ until done)
  int resp_fd_ = -1;
  uint64_t resp_left_ = 0;
  uint64_t resp_sent_ = 0;
  std::string resp_head_;  // what RESPONSE_SOCKET said to write before the body
  size_t resp_head_pos_ = 0;
  int resp_timeout_ms_ = -1;
  bool resp_timed_out_ = false;
  std::string out_;
  bool head_set_ = false;
  bool head_written_ = false;
  bool gone_ = false;
  bool finished_ = false;
  bool failed_ = false;
  std::string error_;
  std::string refusal_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

// CLOCK_MONOTONIC in milliseconds.
int64_t monotonic_ms();

}  // namespace wsgid::worker
