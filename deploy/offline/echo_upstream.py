"""The local upstream API of `make offline`: answers every request with what it received, as JSON.

{"method": ..., "path": ..., "headers": {...}, "body": ...}; `headers` holds what the API behind the gateway
would see, `Authorization: Bearer <token>` included. Like any API an SPA calls through an HTTP proxy
integration, it sends its own CORS headers on success (for the trusted origins only).

    python3 deploy/offline/echo_upstream.py PORT TRUSTED_ORIGIN[,ORIGIN...]
"""

from __future__ import annotations

import http.server
import json
import sys
import threading


def make_server(port: int, trusted_origins: list[str]) -> http.server.ThreadingHTTPServer:
    """An echo server on 127.0.0.1:port (0: the OS picks), not yet serving."""

    class Echo(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else None
            seen = {"method": self.command, "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()}, "body": body}
            payload = json.dumps(seen, indent=1).encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            origin = self.headers.get("Origin")
            if origin in trusted_origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - http.server's names

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass  # the gateway's log already lists each request

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Echo)


def serve_in_background(port: int, trusted_origins: list[str]) -> http.server.ThreadingHTTPServer:
    server = make_server(port, trusted_origins)
    threading.Thread(target=server.serve_forever, name="echo-upstream", daemon=True).start()
    return server


if __name__ == "__main__":
    make_server(int(sys.argv[1]), sys.argv[2].split(",")).serve_forever()
