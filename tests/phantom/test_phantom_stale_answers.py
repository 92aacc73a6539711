"""A kept-alive connection that holds unread bytes after a complete answer is never used again.

The endpoint here is a raw socket server that misbehaves on purpose: it answers one request with a 204 and
then a second, complete 200 carrying a JWT for another user on the same keep-alive connection. Were that
connection pooled and reused, the next caller's exchange would read the stale 200 as its own answer and be
let in as the other user. Every answer the server gives honestly names the token it was asked about.

Two ways of leaving the stale answer in the connection, both without any timing assumption:
- plain HTTP: the stale 200 is written once the proxy has the 204, before the next call starts (on loopback
  the bytes are in the client's receive buffer when sendall returns);
- HTTPS: the 204 and the stale 200 go out in one write as two TLS records. The client reads the first
  record, whose 204 completes its answer, and leaves the second unread in the socket.
(Plain HTTP with both in one write is not a case: libcurl reads them together and drops the excess itself.)"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import List, Optional

import pytest

import oauth_proxy
from conftest import bearer_event
from oauth_proxy.testing import make_jwt

OTHER_USER = "someone-else"


def _response(status: str, body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/jwt\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _jwt_for(sub: str) -> bytes:
    return make_jwt({"sub": sub, "exp": int(time.time()) + 600}).encode()


class _Plain:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def recv(self) -> bytes:
        return self.sock.recv(65536)

    def send(self, *messages: bytes) -> None:
        self.sock.sendall(b"".join(messages))


class _Tls:
    """TLS over memory BIOs, so that several records can leave in one sendall."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self._until_done(self.tls.do_handshake)

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _until_done(self, step):
        while True:
            try:
                result = step()
                self._flush()
                return result
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("peer closed")
                self.incoming.write(data)

    def recv(self) -> bytes:
        try:
            return self._until_done(lambda: self.tls.read(65536))
        except (ConnectionError, ssl.SSLError):
            return b""

    def send(self, *messages: bytes) -> None:
        for m in messages:  # one TLS record each
            self.tls.write(m)
        self._flush()


class StaleAnswerServer:
    """HTTP/1.1 on 127.0.0.1, keep-alive. A request for token `inactive` gets a 204 followed by the other
    user's 200 (over TLS in the same write, over plain HTTP when the test calls `push_stale()`). Any other
    token gets a 200 with a JWT whose sub is that token."""

    def __init__(self, tls: Optional[ssl.SSLContext]) -> None:
        self.tls = tls
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}/introspect"
        self.connections = 0
        self.requests: List[str] = []
        self._stale_target: Optional[_Plain] = None
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    @staticmethod
    def _read_request(conn, buf: bytes):
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv()
            if not chunk:
                return None, b""
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv()
            if not chunk:
                return None, b""
            rest += chunk
        return rest[:length], rest[length:]

    def _serve(self, sock: socket.socket) -> None:
        buf = b""
        try:
            conn = _Tls(sock, self.tls) if self.tls is not None else _Plain(sock)
            while True:
                body, buf = self._read_request(conn, buf)
                if body is None:
                    return
                token = body.decode().split("=", 1)[1]
                with self._lock:
                    self.requests.append(token)
                if token != "inactive":
                    conn.send(_response("200 OK", _jwt_for(token)))
                elif isinstance(conn, _Tls):
                    conn.send(_response("204 No Content"), _response("200 OK", _jwt_for(OTHER_USER)))
                else:
                    with self._lock:
                        self._stale_target = conn
                    conn.send(_response("204 No Content"))
        except (OSError, ssl.SSLError, ConnectionError):
            return

    def push_stale(self) -> None:
        """Plain HTTP: the other user's 200, written now on the connection that was answered with the 204."""
        with self._lock:
            target = self._stale_target
        if target is not None:
            target.send(_response("200 OK", _jwt_for(OTHER_USER)))

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:
                    pass


@pytest.fixture(params=["http", "https"])
def stale(request, test_ca, make_proxy):
    """(server, proxy): the misbehaving endpoint and a proxy with one pooled connection and no cache."""
    server = StaleAnswerServer(test_ca.server_context() if request.param == "https" else None)
    extra = {"introspection_ca_file": str(test_ca.ca_file)} if request.param == "https" else {}
    yield server, make_proxy(server.url, introspection_pool_size=1, introspection_cache_ttl=0, **extra)
    server.close()


def test_a_connection_with_unread_bytes_is_not_reused(stale):
    server, proxy = stale
    with pytest.raises(oauth_proxy.Unauthorized):
        proxy.authorize(bearer_event("inactive"))
    server.push_stale()

    allowed = proxy.authorize(bearer_event("next-caller"))
    assert allowed["principalId"] == "next-caller"
    assert OTHER_USER not in allowed["context"]["token"]
    assert server.requests == ["inactive", "next-caller"]
    assert server.connections == 2  # the tainted connection was closed, a fresh one opened


def test_a_clean_connection_is_still_reused(stale):
    """The check costs no keep-alive: answers without trailing bytes leave the connection in the pool."""
    server, proxy = stale
    for n in range(3):
        assert proxy.authorize(bearer_event(f"caller-{n}"))["principalId"] == f"caller-{n}"
    assert server.connections == 1
