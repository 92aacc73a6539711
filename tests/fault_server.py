"""A deliberately bad introspection endpoint on 127.0.0.1 for the fault runs (tests/test_introspection_faults.py).

The test-only counterpart of oauth_proxy.testing.IntrospectionEndpoint (which answers in HTTP: active,
inactive, slow, failing, garbage bodies): raw sockets, so it can also misbehave below HTTP: stall,
trickle, reset, send random bytes, malformed headers or an endless body. Those hardening cases test the
HTTP client inside the authorizer, not a user's set-up, so they stay out of the public API. Every connection reads one request, counts it, then acts out `behaviour`
(a function of the socket) and closes. `close()` wakes every sleeping or stalled connection."""
from __future__ import annotations

import os
import socket
import struct
import threading
from typing import Callable, Set

Behaviour = Callable[["FaultServer", socket.socket], None]


class FaultServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/oauth/introspect"
        self.threads: Set[threading.Thread] = set()  # live connections only: the leak checks count memory
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self.lock:
                self.threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            if not read_request(conn):
                return
            with self.lock:
                self.requests += 1
            self.behaviour(self, conn)
        except OSError:
            pass  # the client gave up: exactly what the faults provoke
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self.lock:
                self.threads.discard(threading.current_thread())

    def sleep(self, seconds: float) -> bool:
        """Sleeps unless the server is closing; False when it was woken."""
        return not self.stop.wait(seconds)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(5)


def read_request(conn: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/oauth/introspect"


# ---- behaviours --------------------------------------------------------------------------------------


def answer(status: int, body: bytes, content_type: str = "application/jwt") -> Behaviour:
    def act(server: FaultServer, conn: socket.socket) -> None:
        head = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        conn.sendall(head + body)
    return act


def slow(seconds: float, then: Behaviour) -> Behaviour:
    def act(server: FaultServer, conn: socket.socket) -> None:
        if server.sleep(seconds):
            then(server, conn)
    return act


def stall(server: FaultServer, conn: socket.socket) -> None:
    server.sleep(60)


def trickle(server: FaultServer, conn: socket.socket) -> None:
    """A valid-looking answer, one byte every 100 ms: only the total timeout can end it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/jwt\r\nContent-Length: 4000\r\n\r\n")
    for _ in range(4000):
        if not server.sleep(0.1):
            return
        conn.sendall(b"e")


def slow_headers(server: FaultServer, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for i in range(100000):
        if not server.sleep(0.1):
            return
        conn.sendall(b"X-Filler-%d: y\r\n" % i)


def garbage(server: FaultServer, conn: socket.socket) -> None:
    conn.sendall(os.urandom(4096))


def garbage_http(server: FaultServer, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\nContent-Type: application/jwt\r\n\r\n\x00\xff" * 3)


def reset(server: FaultServer, conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST


def gigantic(server: FaultServer, conn: socket.socket) -> None:
    """200 announcing 1 GiB of JWT-looking bytes, sent as fast as the client takes them."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/jwt\r\nContent-Length: 1073741824\r\n\r\n")
    block = b"eyJhbGciOiJub25lIn0" * 3449
    for _ in range(1073741824 // len(block)):
        if server.stop.is_set():
            return
        conn.sendall(block)


def gigantic_chunked(server: FaultServer, conn: socket.socket) -> None:
    """200 with a chunked body that never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/jwt\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    while not server.stop.is_set():
        conn.sendall(chunk)


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour (cycling): a flapping endpoint."""
    state = {"n": 0}
    lock = threading.Lock()

    def act(server: FaultServer, conn: socket.socket) -> None:
        with lock:
            chosen = behaviours[state["n"] % len(behaviours)]
            state["n"] += 1
        chosen(server, conn)
    return act
