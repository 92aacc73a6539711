"""The web side of the browser test: the SPA's static server and a stand-in OAuth Agent, on loopback.

Host names are subdomains of `site.localhost`. Chromium resolves every *.localhost name to loopback itself
and treats http://*.localhost as a secure context (Secure and __Host- cookies are accepted over plain HTTP
there), and `site.localhost` is a registrable domain to it, so these are one site with sibling subdomains,
as www.example.com and api.example.com are:

    http://www.site.localhost:<spa port>     the SPA (the trusted origin)
    http://evil.site.localhost:<spa port>    the same page on a sibling subdomain the attacker controls
    http://api.site.localhost:<agent port>   the OAuth Agent, which sets the cookies for host api.site.localhost
    http://api.site.localhost:<gateway port> the gateway (serverless-offline), which receives them

(and the plain-localhost variant of a developer's machine: http://localhost:<spa port> calling the agent and
the gateway on http://localhost:<their ports>).

Cookies are not isolated by port (RFC 6265 section 8.5), so the agent's cookies for api.site.localhost are
sent to the gateway on another port of that host; and ports do not make sites, so every call from the SPA to
the agent and the gateway is same-site: SameSite=Strict cookies go along.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import urllib.parse
from pathlib import Path

import oauth_proxy

SITE = "site.localhost"
PAGE = (Path(__file__).resolve().parent / "spa" / "index.html").read_bytes()
# The SPA of CSRF_MODE=header (Curity's second generation): the token-handler-version header, v2 cookies.
HEADER_MODE_PAGE = (Path(__file__).resolve().parent / "spa" / "header.html").read_bytes()
CSRF_VALUE = "0f5e1b2c-csrf-from-the-agent"


@dataclasses.dataclass
class Site:
    spa_port: int
    agent_port: int
    key: str
    user_token: str
    attacker_token: str

    @property
    def spa_origin(self) -> str:
        return f"http://www.{SITE}:{self.spa_port}"

    @property
    def evil_origin(self) -> str:
        return f"http://evil.{SITE}:{self.spa_port}"

    @property
    def localhost_origin(self) -> str:
        """The SPA as a dev server serves it: plain localhost, the agent and gateway on other ports."""
        return f"http://localhost:{self.spa_port}"

    @property
    def agent(self) -> str:
        return f"http://api.{SITE}:{self.agent_port}"


def _handler(site: Site):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, content_type: str, headers: list[tuple[str, str]] = ()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    class SpaServer(Handler):
        """The page, for any host name; /plant only as the attacker's sibling subdomain would serve it."""

        def do_GET(self):  # noqa: N802 - http.server's naming
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/plant":
                prefix = urllib.parse.parse_qs(url.query)["prefix"][0]
                # A valid access-token cookie of the attacker's own account (they logged in at the same
                # OAuth Agent), scoped to the parent domain so the browser sends it to api.site.localhost
                # too; Path=/api makes the browser list it before the user's Path=/ cookie.
                planted = oauth_proxy.encrypt_cookie(site.attacker_token, site.key)
                cookie = f"{prefix}-at={planted}; Domain={SITE}; Path=/api; Secure; HttpOnly; SameSite=Lax"
                self._send(200, b"planted\n", "text/plain", [("Set-Cookie", cookie)])
            elif url.path == "/header.html":
                self._send(200, HEADER_MODE_PAGE, "text/html; charset=utf-8")
            else:
                self._send(200, PAGE, "text/html; charset=utf-8")

    class Agent(Handler):
        """The OAuth Agent's login end, as far as the browser sees it: after the (elided) code flow it sets
        the two encrypted cookies for its own host and gives the SPA the CSRF value."""

        def _cors(self) -> list[tuple[str, str]]:
            origin = self.headers.get("Origin")
            if origin not in (site.spa_origin, site.localhost_origin):
                return []
            return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true"),
                    ("Vary", "Origin")]

        def do_POST(self):  # noqa: N802 - http.server's naming
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/login" or not self._cors():
                self._send(403, b"{}", "application/json")
                return
            query = urllib.parse.parse_qs(url.query)
            prefix = query["prefix"][0]
            attributes = "HttpOnly; Secure; SameSite=Strict; Path=/"
            if query.get("mode") == ["header"]:
                # Curity's second-generation agent: the access-token cookie in the v2 format, no CSRF cookie.
                value = oauth_proxy.encrypt_cookie(site.user_token, site.key, format="v2")
                self._send(200, b"{}", "application/json",
                           self._cors() + [("Set-Cookie", f"{prefix}-at={value}; {attributes}")])
                return
            # What Curity's OAuth Agent sets: HttpOnly, Secure, SameSite=Strict, Path=/, no Domain (the cookie
            # belongs to the agent's host only). These are also exactly the rules of the __Host- prefix.
            cookies = [("Set-Cookie", f"{prefix}-at={oauth_proxy.encrypt_cookie(site.user_token, site.key)}; {attributes}"),
                       ("Set-Cookie", f"{prefix}-csrf={oauth_proxy.encrypt_cookie(CSRF_VALUE, site.key)}; {attributes}")]
            self._send(200, json.dumps({"csrf": CSRF_VALUE}).encode(), "application/json", self._cors() + cookies)

    return SpaServer, Agent


class Servers:
    """Both servers on 127.0.0.1, on ports the OS picks."""

    def __init__(self, key: str, user_token: str, attacker_token: str) -> None:
        self.site = Site(0, 0, key, user_token, attacker_token)
        spa_handler, agent_handler = _handler(self.site)
        self._servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), spa_handler),
                         http.server.ThreadingHTTPServer(("127.0.0.1", 0), agent_handler)]
        self.site.spa_port, self.site.agent_port = (s.server_port for s in self._servers)
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
