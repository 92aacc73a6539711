"""A real RFC 7662 introspection endpoint on loopback for the phantom token tests.

Each test tells the server how to answer (``server.reply = ...``); the server
records every request and counts TCP connections, so tests can check what the
proxy sent and whether it kept its connection alive. HTTP/1.1 with keep-alive;
TLS when given an ``ssl.SSLContext``.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import socket
import socketserver
import ssl
import threading
import time
from typing import Callable


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict, header: dict | None = None) -> str:
    """A JWT-shaped token. The signature is junk: the proxy does not verify it
    (the API behind the gateway does)."""
    header = header or {"alg": "RS256", "typ": "JWT", "kid": "test"}
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(claims).encode()),
            b64url(b"not-a-real-signature"),
        ]
    )


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    abort: bool = False  # close the connection without answering
    close: bool = False  # answer with Connection: close
    chunked: bool = False  # no Content-Length: the size is unknown up front


def jwt_reply(jwt: str) -> Reply:
    return Reply(200, jwt.encode(), "application/jwt")


def json_reply(obj, status: int = 200) -> Reply:
    return Reply(status, json.dumps(obj).encode(), "application/json")


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict  # lower-case names
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass

    def do_POST(self):
        self._serve()

    def do_GET(self):
        self._serve()

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(req)
        reply = owner.reply(req) if callable(owner.reply) else owner.reply
        if reply.delay:
            owner.release.wait(reply.delay)
        if reply.abort:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        no_body = reply.status == 204 or reply.status == 304 or 100 <= reply.status < 200
        if reply.chunked and not no_body:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = 16 * 1024
            for i in range(0, len(reply.body), step):
                chunk = reply.body[i : i + step]
                try:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:
                    self.close_connection = True
                    return
            self.wfile.write(b"0\r\n\r\n")
        else:
            if not no_body:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if not no_body and reply.body:
                try:
                    self.wfile.write(reply.body)
                except OSError:
                    self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "IntrospectionServer"

    def get_request(self):
        sock, addr = self.socket.accept()
        # Headers and body go out in separate writes; without this, Nagle and
        # delayed ACKs would add ~40 ms to some answers and skew benchmarks.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.owner.lock:
            self.owner.connections += 1
        if self.owner.tls is not None:
            # The handshake runs lazily in the handler thread, so one failing
            # client cannot stall the accept loop.
            sock = self.owner.tls.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr

    def handle_error(self, request, client_address):
        # Failed TLS handshakes and clients hanging up are expected in tests.
        with self.owner.lock:
            self.owner.errors += 1


class IntrospectionServer:
    """A threaded HTTP(S) server on 127.0.0.1 with a configurable answer."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.tls = tls
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends every pending delay at shutdown
        self.requests: list[Request] = []
        self.connections = 0
        self.errors = 0
        self.reply: Reply | Callable[[Request], Reply] = Reply(204)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        scheme = "https" if tls is not None else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.url = self.base_url + "/oauth/v2/oauth-introspect"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def calls(self) -> int:
        with self.lock:
            return len(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.connections = 0

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """A loopback port with nothing listening (for 'connection refused')."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
