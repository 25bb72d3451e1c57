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
// everything on established connections pass. The front end waits
// kHandshakeSettleUs for the handshakes under way, then accepts the queue and
// closes: nothing that completed a handshake is reset (one whose round trip is
// longer than the wait, a client across a WAN connecting at that instant, still
// can be). A client whose SYN was
// dropped sends it again a second later (the initial retransmission timeout,
// RFC 6298) and is refused then, which a balancer retries on another server,
// or reaches the daemon's next instance if it listens by then.
//
// The filter belongs to the socket, not the descriptor, so either holder may
// attach it. Upstream Linux lets any process filter its own sockets; some
// kernels ask for CAP_NET_ADMIN, which the front end (www-data) does not have:
// the master (root) then attaches it to its own copy when the front end says
// it drains (LISTENERS_CLOSING, protocol/PROTOCOL.md), and closes that copy so
// the front end holds the last one. With neither, the listener closes at once
// (the window is back, a few microseconds wide).
//
// Only for a socket nobody else keeps: the filter stays on it, so a listener
// that systemd also holds (socket activation) or that a successor front end
// serves (a handover) closes as before.
#pragma once

#include "common/status.h"

namespace wsgid {

// How long a draining listener keeps accepting once new handshakes are
// refused: a handshake whose SYN-ACK is out completes within a round trip,
// microseconds on loopback, about 100 us within a rack. Short on purpose:
// every SYN dropped meanwhile costs its client a second (its retransmission).
// Measured with the fleet test (nginx opening a connection per request, 8,000
// a second over two hosts): a 250 ms or 2 ms refusal stalled every client of
// the load for a second at each stop. Counting the handshakes under way
// instead (sock_diag's SYN_RECV dump, as `ss` reads it) took 5-20 ms per call
// among the TIME_WAIT sockets of such a load.
inline constexpr long kHandshakeSettleUs = 500;

// Attaches the SYN-dropping filter to the listening socket fd.
Status refuse_new_handshakes(int fd);

}  // namespace wsgid
