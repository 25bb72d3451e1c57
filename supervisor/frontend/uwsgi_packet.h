// UwsgiPacketReader: the request packet of the uwsgi protocol, as nginx's
// uwsgi module sends it to a `Listen ADDR:PORT uwsgi` socket (uWSGI's
// documentation, "The uwsgi protocol"), turned into the HTTP/1.x request head
// HttpConn's parser reads (docs/decisions.md 45: one request path).
//
// The packet: a 4-byte header (modifier1 u8, datasize u16 little-endian,
// modifier2 u8), then datasize bytes of vars (key_size u16 LE, key, val_size u16
// LE, val, repeated), then the body: CONTENT_LENGTH bytes, which are not the
// reader's (HttpConn hands them to the parser after the head). One request per
// connection: nginx closes after each response.
//
// What becomes of the vars:
//   REQUEST_METHOD         the method (required; llhttp judges it as for HTTP)
//   REQUEST_URI            the target; without it PATH_INFO (percent-encoded
//                          again where a target needs it) + "?" QUERY_STRING
//   SERVER_PROTOCOL        "HTTP/1.0" stays; anything else is HTTP/1.1 (nginx
//                          sends "HTTP/2.0" for an h2 client)
//   HTTP_HOST, else SERVER_NAME   the Host field (vhost selection); the first
//                          HTTP_HOST wins (Debian's uwsgi_params sets it to $host)
//   HTTP_<NAME>            a field "Name" ('_' -> '-'); HTTP_CONTENT_LENGTH,
//                          HTTP_CONTENT_TYPE, HTTP_TRANSFER_ENCODING,
//                          HTTP_CONNECTION, HTTP_UPGRADE, HTTP_KEEP_ALIVE,
//                          HTTP_TE and HTTP_EXPECT are dropped (nginx has read
//                          and de-chunked the body and answered any 100-continue;
//                          the connection is ours); a name with a byte
//                          other than [A-Za-z0-9_] is dropped
//   CONTENT_LENGTH, CONTENT_TYPE  Content-Length (decimal), Content-Type
//   REMOTE_ADDR, REMOTE_PORT      the client's address (the peer is trusted)
//   HTTPS ("on"/"1"), REQUEST_SCHEME or UWSGI_SCHEME ("https")   the scheme
//   SERVER_PORT            kept for the environ's SERVER_PORT
//   anything else, and every other UWSGI_* var (uWSGI's "magic variables":
//   UWSGI_SCRIPT, UWSGI_CHDIR, ...)   ignored: wsgid's config decides.
// Errors (kError, error() says which in a sentence for the log; HttpConn answers
// 400 and closes): modifier1 other than 0, a var whose size runs past the vars
// block, an empty key, a key given twice among those above (HTTP_* may repeat),
// no REQUEST_METHOD, no REQUEST_URI or PATH_INFO, a target with a space or
// control byte, a CR, LF or NUL in a value that becomes a field, a
// CONTENT_LENGTH or REMOTE_PORT that is not a decimal number in range, a
// REMOTE_ADDR that is not an IP address. The block's size is a u16, so it is
// never over 65535 bytes; LimitRequestLine, LimitRequestFieldSize,
// LimitRequestFields and LimitRequestBody apply to the head it becomes, by
// the HTTP path's checks.
// Pure and bounded: no socket, no libuv; at most 4 + 65535 bytes kept. One per
// connection, loop thread (any thread in tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgid::frontend {

struct UwsgiRequest {
  std::string head;       // "GET /x?y HTTP/1.1\r\nHost: a\r\n...\r\n\r\n"
  std::string remote_ip;  // REMOTE_ADDR; "" when not sent
  int remote_port = 0;    // REMOTE_PORT; 0 when not sent
  bool https = false;     // the client's scheme is https
  std::string server_port;  // SERVER_PORT as sent; "" when not sent
};

class UwsgiPacketReader {
 public:
  static constexpr size_t kHeaderSize = 4;
  enum class State { kNeedMore, kDone, kError };

  // Takes the next bytes of the connection. *used is set to how many of them
  // belong to the packet's header and vars (on kDone the rest is the body;
  // otherwise all were taken). After kDone or kError feed() must not be called.
  State feed(std::string_view data, size_t* used);

  const UwsgiRequest& request() const { return request_; }  // valid after kDone
  const std::string& error() const { return error_; }       // set on kError
  size_t received() const { return buf_.size(); }          // bytes held so far

 private:
  State fail(std::string why);

  std::string buf_;
  UwsgiRequest request_;
  std::string error_;
};

// The vars block (without the 4-byte header) as a request; false with *why on
// a fault listed above. What feed() calls once the block is whole.
bool uwsgi_vars_to_request(std::string_view vars, UwsgiRequest* out, std::string* why);

}  // namespace wsgid::frontend
