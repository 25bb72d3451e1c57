"""The wsgid framed protocol in Python (protocol/PROTOCOL.md, version 7).

A test-side implementation, written from the spec, of what protocol/frame.h and
protocol/messages.h do in C++: 12-byte big-endian frame headers, HELLO, environ
pairs, response heads, errors and JSON control messages. The one Python codec of
the tree: the worker, master, front-end and fault tests, the master tests' fake
worker (tests/integration/master/fake_worker.py) and the frame fuzzer's corpus
generator (tests/fuzz/make_frame_corpus.py) use it; no wsgid code is imported.
Encoders can also write what the spec forbids (a reserved field, a length that
is not the payload's), so that the corpus can hold malformed frames.
"""

import json
import struct

VERSION = 7
HEADER = struct.Struct('>BBHII')  # type, flags, reserved, request id, length
HEADER_SIZE = HEADER.size
BODY_CHUNK = 64 * 1024
MAX_PAYLOAD = 16 * 1024 * 1024

HELLO = 0x01
REQUEST_HEAD = 0x10
REQUEST_BODY = 0x11
REQUEST_END = 0x12
BODY_SOCKET = 0x13
RESPONSE_SOCKET = 0x14
RESPONSE_HEAD = 0x20
RESPONSE_BODY = 0x21
RESPONSE_END = 0x22
STARTED = 0x23
BODY_TAKEN = 0x24
SOCKET_ASK = 0x25
RESPONSE_SENT = 0x26
ERROR = 0x30
CANCEL = 0x31
SETTINGS = 0x40
READY = 0x41
STATE = 0x42
STATE_QUERY = 0x43
DRAIN = 0x44
REPLACE_ME = 0x45
EXITING = 0x46
LOG = 0x47
LISTENERS_CLOSING = 0x48
LISTENERS_CLOSED = 0x49

NAMES = {v: k for k, v in dict(globals()).items()
         if isinstance(v, int) and k.isupper() and k not in ('VERSION', 'HEADER_SIZE', 'BODY_CHUNK', 'MAX_PAYLOAD')}


class ProtocolError(Exception):
    pass


def frame(ftype, request_id=0, payload=b'', flags=0, reserved=0, length=None):
    """One whole frame as bytes. payload: bytes, or str (UTF-8). reserved and
    length (default: the payload's) exist to write malformed frames."""
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    if length is None:
        length = len(payload)
    return HEADER.pack(ftype, flags, reserved, request_id, length) + payload


def hello(magic=b'WSGD', version=VERSION, extra=b'', pid=0):
    """HELLO; magic, version and extra bytes may be changed to write bad ones;
    pid is the sender's (a worker's own, 0 from the front end and the master).
    pid=None leaves the pid out (a version 1 payload)."""
    tail = b'' if pid is None else struct.pack('>I', pid)
    return frame(HELLO, 0, magic + struct.pack('>I', version) + tail + extra)


def _b(s):
    return s if isinstance(s, bytes) else s.encode('latin-1')


def encode_pairs(pairs):
    out = []
    for k, v in pairs:
        k, v = _b(k), _b(v)
        out.append(struct.pack('>HI', len(k), len(v)) + k + v)
    return b''.join(out)


def decode_pairs(payload, what='request head'):
    pairs, pos = [], 0
    while pos < len(payload):
        if len(payload) - pos < 6:
            raise ProtocolError('%s: truncated pair header at offset %d' % (what, pos))
        klen, vlen = struct.unpack_from('>HI', payload, pos)
        if pos + 6 + klen + vlen > len(payload):
            raise ProtocolError('%s: pair longer than the payload at offset %d' % (what, pos))
        k = payload[pos + 6:pos + 6 + klen]
        v = payload[pos + 6 + klen:pos + 6 + klen + vlen]
        pairs.append((k.decode('latin-1'), v.decode('latin-1')))
        pos += 6 + klen + vlen
    return pairs


def request_head(request_id, environ):
    """environ: dict or list of pairs (str or bytes)."""
    items = environ.items() if isinstance(environ, dict) else environ
    return frame(REQUEST_HEAD, request_id, encode_pairs(items))


def encode_response_head(status, reason, headers):
    """RESPONSE_HEAD payload: status u16, reason length u16, reason, header pairs."""
    r = _b(reason)
    return struct.pack('>HH', status, len(r)) + r + encode_pairs(headers)


def response_head(request_id, status, reason, headers):
    return frame(RESPONSE_HEAD, request_id, encode_response_head(status, reason, headers))


def decode_response_head(payload):
    """-> (status, reason, [(name, value), ...])"""
    if len(payload) < 4:
        raise ProtocolError('response head: payload too short')
    status, rlen = struct.unpack_from('>HH', payload, 0)
    reason = payload[4:4 + rlen].decode('latin-1')
    return status, reason, decode_pairs(payload[4 + rlen:], 'response head')


def encode_error(code, message):
    """ERROR payload; message: str (UTF-8) or bytes."""
    m = message if isinstance(message, bytes) else message.encode('utf-8')
    return struct.pack('>H', code) + m


def error(request_id, code, message):
    return frame(ERROR, request_id, encode_error(code, message))


def body_socket(request_id, length, timeout_ms=0):
    """A BODY_SOCKET frame (send it with the descriptor: socket.send_fds)."""
    return frame(BODY_SOCKET, request_id, struct.pack('>QI', length, timeout_ms))


def body_taken(request_id, count, how=0):
    return frame(BODY_TAKEN, request_id, struct.pack('>QB', count, how))


def socket_ask(request_id, count):
    return frame(SOCKET_ASK, request_id, struct.pack('>Q', count))


def response_socket(request_id, granted, timeout_ms=0, head=b''):
    """A RESPONSE_SOCKET frame (granted: send it with the descriptor: socket.send_fds);
    head: bytes the worker writes before the body."""
    return frame(RESPONSE_SOCKET, request_id, struct.pack('>BI', 1 if granted else 0, timeout_ms) + head)


def response_sent(request_id, count, how=0):
    return frame(RESPONSE_SENT, request_id, struct.pack('>QB', count, how))


def decode_response_sent(payload):
    """(bytes, how) of a RESPONSE_SENT payload."""
    if len(payload) != 9:
        raise ProtocolError('response sent: payload length %d is not 9' % len(payload))
    return struct.unpack('>QB', payload)


def decode_body_taken(payload):
    """-> (bytes, how): how 0 done, 1 timeout, 2 the client closed."""
    return struct.unpack('>QB', payload)


def decode_error(payload):
    """-> (code, message)"""
    code, = struct.unpack_from('>H', payload, 0)
    return code, payload[2:].decode('utf-8', 'replace')


def decode_hello(payload):
    """-> (version, pid)"""
    if len(payload) < 8 or payload[:4] != b'WSGD':
        raise ProtocolError('hello: bad payload %r' % payload)
    version, = struct.unpack_from('>I', payload, 4)
    if version != VERSION:
        raise ProtocolError('hello: peer speaks protocol version %d' % version)
    if len(payload) != 12:
        raise ProtocolError('hello: payload length %d is not 12' % len(payload))
    pid, = struct.unpack_from('>I', payload, 8)
    return version, pid


def control(ftype, obj=None, separators=None):
    """A control frame with a JSON body (or empty, for STATE_QUERY)."""
    return frame(ftype, 0, b'' if obj is None else json.dumps(obj, separators=separators).encode('utf-8'))


class FrameReader:
    """Incremental decoder: feed(bytes), then next() -> (type, flags, id, payload) or None."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data

    def next(self):
        if len(self.buf) < HEADER_SIZE:
            return None
        ftype, flags, reserved, rid, length = HEADER.unpack_from(self.buf, 0)
        if ftype not in NAMES:
            raise ProtocolError('frame type 0x%02x is unknown' % ftype)
        if reserved:
            raise ProtocolError('frame reserved field 0x%04x is not zero' % reserved)
        if length > MAX_PAYLOAD:
            raise ProtocolError('frame length %d exceeds the limit of %d' % (length, MAX_PAYLOAD))
        if len(self.buf) < HEADER_SIZE + length:
            return None
        payload = bytes(self.buf[HEADER_SIZE:HEADER_SIZE + length])
        del self.buf[:HEADER_SIZE + length]
        return ftype, flags, rid, payload


def read_frames(recv):
    """Whole frames from a blocking recv(n) callable (a socket's recv): yields
    (type, flags, id, payload) until EOF. For code that blocks on one peer, as
    the master tests' fake worker does."""
    reader = FrameReader()
    while True:
        f = reader.next()
        if f is not None:
            yield f
            continue
        data = recv(65536)
        if not data:
            return
        reader.feed(data)
