"""IntrospectionEndpoint: an RFC 7662 token introspection endpoint on loopback, for phantom-token tests.

It answers as an authorization server does for the Phantom Token pattern (`Accept: application/jwt`): an
opaque token registered with `issue(token, claims)` is exchanged for a JWT carrying those claims; unknown
tokens are inactive (204). Tokens can also be registered as slow, failing or answered with anything
(`register(token, Reply(...))`). It records every request and counts TCP connections, so a test can check
what the authorizer sent and whether it reused its connection. HTTP/1.1 with keep-alive; HTTPS when given an
`ssl.SSLContext` holding a certificate for 127.0.0.1 (from a throwaway CA the test trusts through
INTROSPECTION_CA_FILE).

    with IntrospectionEndpoint() as endpoint:
        jwt = endpoint.issue("opaque-1", {"sub": "alice", "scope": "orders"})
        proxy = OAuthProxy(Config(..., use_phantom_token=True, introspection_url=endpoint.url, ...))
"""
from __future__ import annotations

import collections
import dataclasses
import http.server
import json
import os
import socket
import socketserver
import threading
from typing import Any, Callable, Counter, Deque, Dict, List, Mapping, Optional, Set, Tuple, Union
from urllib.parse import parse_qs

from .events import make_jwt

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl  # only a type here: the caller builds the context (and loads _ssl) for HTTPS

__all__ = ["IntrospectionEndpoint", "IntrospectionRequest", "Reply"]


@dataclasses.dataclass
class Reply:
    """One answer of the endpoint. The class methods build the usual ones."""

    status: int = 200
    body: bytes = b""
    content_type: Optional[str] = None
    headers: Dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow endpoint)
    abort: bool = False  # close the connection without answering
    close: bool = False  # answer with Connection: close
    chunked: bool = False  # no Content-Length: the size is unknown up front

    @classmethod
    def jwt(cls, jwt: str, *, delay: float = 0.0) -> "Reply":
        """200 application/jwt: an active token, exchanged for `jwt`."""
        return cls(200, jwt.encode(), "application/jwt", delay=delay)

    @classmethod
    def json(cls, value: Any, status: int = 200, *, delay: float = 0.0) -> "Reply":
        return cls(status, json.dumps(value).encode(), "application/json", delay=delay)

    @classmethod
    def inactive(cls, *, delay: float = 0.0) -> "Reply":
        """204 No Content: how an authorization server answers an inactive token when asked for a JWT."""
        return cls(204, delay=delay)

    @classmethod
    def failing(cls, status: int = 503, *, delay: float = 0.0) -> "Reply":
        """An error status with a text body: the authorizer answers 500 (IntrospectionError)."""
        return cls(status, b"temporarily unavailable", "text/plain", delay=delay)

    @classmethod
    def garbage(cls, *, delay: float = 0.0) -> "Reply":
        """200 application/jwt whose body is not a JWT (random bytes): the authorizer answers 500."""
        return cls(200, os.urandom(64) + b"\x00not a jwt", "application/jwt", delay=delay)


@dataclasses.dataclass
class IntrospectionRequest:
    method: str
    path: str
    headers: Dict[str, str]  # lower-case names
    body: bytes

    @property
    def form(self) -> Dict[str, List[str]]:
        return parse_qs(self.body.decode("latin-1"), keep_blank_values=True)

    @property
    def token(self) -> Optional[str]:
        """The `token` form field the authorizer posted (None when there is not exactly one)."""
        values = self.form.get("token", [])
        return values[0] if len(values) == 1 else None


ReplyLike = Union[Reply, Callable[[IntrospectionRequest], Reply]]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output clean
        pass

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = IntrospectionRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = self.server.owner._answer(request)
        if reply.delay:
            self.server.owner._closing.wait(reply.delay)
        if reply.abort:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        no_body = reply.status in (204, 304) or 100 <= reply.status < 200
        try:
            if reply.chunked and not no_body:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                step = 16 * 1024
                for start in range(0, len(reply.body), step):
                    chunk = reply.body[start:start + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
                return
            if not no_body:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if not no_body and reply.body:
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout under test)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    # close() ends every connection and joins its thread: no thread outlives the endpoint (the valgrind run
    # of tests/outcomes.py counts the state of threads still running at exit as leaked). Daemon threads
    # all the same, so an endpoint left open never holds up the interpreter's exit.
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "IntrospectionEndpoint"

    def get_request(self) -> Tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Headers and body go out in separate writes; without this, Nagle and delayed ACKs would add ~40 ms
        # to some answers and skew timings.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.owner.lock:
            self.owner.connections += 1
        if self.owner.tls is not None:
            # The handshake runs lazily in the handler thread, so one failing client cannot stall accept().
            sock = self.owner.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.owner.lock:
            self.owner._open.add(sock)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self.owner.lock:
            self.owner._threads = [t for t in self.owner._threads if t.is_alive()] + [thread]
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self.owner.lock:
            self.owner._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Failed TLS handshakes and clients hanging up are expected in tests; they are counted, not printed.
        with self.owner.lock:
            self.owner.errors += 1


class IntrospectionEndpoint:
    """A threaded RFC 7662 endpoint on 127.0.0.1 (a port the OS picks); a context manager.

    - `url`: the introspection URL to configure (INTROSPECTION_URL).
    - `issue(token, claims)`, `inactive(token)`, `fail(token)`, `register(token, reply)`: how each opaque
      token is answered; `default` answers the others (inactive unless changed).
    - `reply`: when set (a Reply, or a function of the IntrospectionRequest returning one), answers every
      request, whatever its token.
    - `credentials=(client_id, client_secret)`: requests without that HTTP Basic authorization get 401.
    - `requests`, `calls`, `calls_for(token)`, `connections`, `errors` (failed handshakes, hang-ups): what
      happened, for assertions; `reset()` clears them. `history=N` keeps only the last N requests (the
      counts stay exact): for long runs that measure memory.
    """

    path = "/oauth/v2/oauth-introspect"

    def __init__(self, tls: Optional[ssl.SSLContext] = None, *,
                 credentials: Optional[Tuple[str, str]] = None, history: Optional[int] = None) -> None:
        self.tls = tls
        self.credentials = credentials
        self.lock = threading.Lock()
        self._closing = threading.Event()  # ends every pending delay at shutdown
        self._open: Set[socket.socket] = set()  # accepted connections not yet closed: close() ends them
        self._threads: List[threading.Thread] = []  # one per connection
        self.requests: Deque[IntrospectionRequest] = collections.deque(maxlen=history)
        self._calls: Counter[Optional[str]] = collections.Counter()
        self.connections = 0
        self.errors = 0
        self.tokens: Dict[str, Reply] = {}
        self.default: Reply = Reply.inactive()
        self.reply: Optional[ReplyLike] = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.base_url = f"{'https' if tls is not None else 'http'}://127.0.0.1:{self.port}"
        self.url = self.base_url + self.path
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # ---- what to answer -----------------------------------------------------------------------------

    def issue(self, token: str, claims: Optional[Mapping[str, Any]] = None, *, jwt: Optional[str] = None,
              delay: float = 0.0) -> str:
        """Registers `token` as active: it is exchanged for `jwt`, or an unsigned JWT of `claims` (default
        `{"sub": "test-user"}`), after `delay` seconds. Returns the JWT."""
        if jwt is None:
            jwt = make_jwt(dict(claims) if claims is not None else {"sub": "test-user"})
        self.register(token, Reply.jwt(jwt, delay=delay))
        return jwt

    def inactive(self, token: str) -> None:
        """Registers `token` as inactive (expired or revoked): 204, the authorizer answers 401."""
        self.register(token, Reply.inactive())

    def fail(self, token: str, status: int = 503) -> None:
        """Registers `token` as failing: an error status, the authorizer answers 500."""
        self.register(token, Reply.failing(status))

    def register(self, token: str, reply: Reply) -> None:
        with self.lock:
            self.tokens[token] = reply

    def _answer(self, request: IntrospectionRequest) -> Reply:
        with self.lock:
            self.requests.append(request)
            self._calls[request.token] += 1
            reply = self.reply
            registered = self.tokens.get(request.token or "", self.default)
        if reply is not None:
            return reply(request) if callable(reply) else reply
        if self.credentials is not None and request.headers.get("authorization") != _basic(*self.credentials):
            return Reply.json({"error": "invalid_client"}, 401)
        return registered

    # ---- what happened ------------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        with self.lock:
            return sum(self._calls.values())

    def calls_for(self, token: str) -> int:
        with self.lock:
            return self._calls[token]

    def reset(self) -> None:
        """Forgets the requests and connections seen so far (not the registered tokens)."""
        with self.lock:
            self.requests.clear()
            self._calls.clear()
            self.connections = 0
            self.errors = 0

    def close(self) -> None:
        """Stops accepting, ends every open connection (kept-alive ones wait in a read) and joins all threads."""
        self._closing.set()
        self._server.shutdown()
        with self.lock:
            open_connections = list(self._open)
        for sock in open_connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)
        with self.lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> "IntrospectionEndpoint":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _basic(client_id: str, client_secret: str) -> str:
    """RFC 6749 2.3.1: form-urlencode each part, then Basic-encode."""
    import base64
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
