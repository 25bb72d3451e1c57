// Closing a listening socket without resetting a connection it accepted.
//
// When the last descriptor of a TCP listener closes, Linux resets every
// connection in its accept queue (inet_csk_listen_stop). A drain therefore
// accepts what is queued just before the close (HttpConn::accept_backlog), but
// a handshake that completes between that last accept() and the close() is
// still reset, after its client may have sent a request: nginx's proxy_pass and
// uwsgi_pass then answer a POST with 502, since a request already sent is not
// retried (proxy_next_upstream, "non_idempotent"). Under a balancer's steady
// load of new connections that window is hit about once in every few stops.
//
// refuse_new_handshakes() closes the window: a classic BPF socket filter
// (socket(7), SO_ATTACH_FILTER; the program sees the TCP header at offset 0)
// drops every segment that has SYN without ACK, so no new handshake starts on
// the listener, while the ACKs that complete handshakes already under way and
// everything on established connections pass. The Server keeps accepting for
// kHandshakeSettleMs, then accepts the rest of the queue and closes: nothing
// that completed a handshake is reset. A client whose SYN was dropped sends it
// again a second later (the initial retransmission timeout, RFC 6298) and is
// refused then, which a balancer retries on another server, or reaches the
// daemon's next instance if it listens by then.
//
// Only for a socket this process holds alone: the filter stays on the socket,
// so a listener that systemd also holds (socket activation) or that a
// successor front end serves (a handover) closes as before.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace wsgid::frontend {

// How long a draining listener keeps accepting once new handshakes are
// refused: an ACK from a client one round trip away arrives well within it.
inline constexpr uint64_t kHandshakeSettleMs = 250;

// Attaches the SYN-dropping filter to the listening socket fd.
Status refuse_new_handshakes(int fd);

}  // namespace wsgid::frontend
