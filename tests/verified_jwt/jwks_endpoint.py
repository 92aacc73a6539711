"""A JWKS document served on 127.0.0.1, for the verified-JWT tests. It loads no key library, so a process
that must not load one (tests/outcomes.py under valgrind: cryptography's own start-up allocations are never
freed, and would read as leaks) can serve keys minted elsewhere."""
from __future__ import annotations

import http.server
import json
import threading
from typing import Any, Optional


class StaticJwksEndpoint:
    """A JWKS document served on 127.0.0.1; `document`, `status` and `body` may be changed while it runs,
    and `fetches` counts the GETs."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.status = 200
        self.body: Optional[bytes] = None
        self.fetches = 0
        self.paths: list = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                endpoint.fetches += 1
                endpoint.paths.append(self.path)
                body = endpoint.body if endpoint.body is not None else json.dumps(endpoint.document).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "StaticJwksEndpoint":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
