"""End to end through the `make offline` gateway (scripts/offline, the emulator project deploy/offline):
serverless-offline runs the authorizer from the built artifact in front of the echo upstream; a real HTTP
client sends the requests an SPA sends, with cookies from encrypt_cookie. The printed curl lines are run as a
user would paste them.

What serverless-offline cannot show: docs/deploy/local.md, "Local gateway emulation and what it cannot show"."""

from __future__ import annotations

import base64
import http.client
import http.server
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import threading
import urllib.parse

import pytest

import oauth_proxy

from .deploy_helpers import ORIGIN, PREFIX, ROOT, make_jwt
from .offline_gateway import run_offline

REQUEST_TIMEOUT = 30  # the authorizer's own timeout is 10 s


@pytest.fixture(scope="module")
def secrets_(gateway_secrets):
    return gateway_secrets


@pytest.fixture(scope="module")
def gateway(offline_gateway):
    return {"port": offline_gateway.port, "log": offline_gateway.log}


class _Introspection(http.server.BaseHTTPRequestHandler):
    """RFC 7662 endpoint stand-in: a JWT for the one active token, 204 else."""

    active: str = ""
    jwt: str = ""
    calls: list

    def do_POST(self):  # noqa: N802 - http.server's naming
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.calls.append(form.get("token", [""])[0] == self.active)
        if form.get("token") == [self.active]:
            body = self.jwt.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/jwt")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def phantom(osls, artifact, secrets_, tmp_path_factory):
    """The gateway with phantom tokens on, against a loopback introspection
    endpoint: the exchange runs in the emulator's Python process, through the
    artifact's bundled libcurl."""
    handler = type("H", (_Introspection,), {
        "active": "opaque-4f1c9a", "calls": [],
        "jwt": make_jwt({"sub": "phantom-user", "scope": "openid", "exp": 4102444800})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
              "ENCRYPTION_KEY": secrets_["key"], "USE_PHANTOM_TOKEN": "true",
              "INTROSPECTION_URL": f"http://127.0.0.1:{server.server_port}/introspect",
              "CLIENT_ID": "gateway", "CLIENT_SECRET": "not-a-real-secret"}
    try:
        with run_offline(artifact, tmp_path_factory.mktemp("offline-phantom"), config) as gw:
            yield {"port": gw.port, "log": gw.log, "handler": handler}
    finally:
        server.shutdown()
        server.server_close()


def request(gateway, method: str, path: str, *, cookies: dict | None = None,
            headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", gateway["port"], timeout=REQUEST_TIMEOUT)
    try:
        all_headers = {"Origin": ORIGIN, "Accept": "application/json", **(headers or {})}
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def cookies_of(s, *, csrf=True):
    c = {"unrelated": "1", f"{PREFIX}-at": s["at_cookie"]}
    if csrf:
        c[f"{PREFIX}-csrf"] = s["csrf_cookie"]
    return c


def assert_cors(headers):
    # serverless-offline adds these to every answer for a request with an
    # Origin header (see test_untrusted_origin_is_403): this shows the 401/403
    # reach the browser readable, not what API Gateway's gateway responses send.
    assert headers.get("access-control-allow-origin") == ORIGIN
    assert headers.get("access-control-allow-credentials") == "true"


def test_get_reaches_upstream_with_bearer_token(gateway, secrets_):
    status, headers, body = request(gateway, "GET", "/api/orders/4%202?page=2",
                                    cookies=cookies_of(secrets_, csrf=False),
                                    headers={"Authorization": "Bearer forged-by-the-browser"})
    assert status == 200, body
    seen = json.loads(body)
    # The integration's mapping replaces whatever Authorization header the browser sent.
    assert seen["headers"]["authorization"] == f"Bearer {secrets_['token']}"
    assert seen["method"] == "GET"
    assert seen["path"] == "/orders/4%202?page=2"
    # The upstream's own CORS headers (it trusts ORIGIN), passed through as the HTTP proxy does.
    assert_cors(headers)


def test_post_with_csrf_header_reaches_upstream(gateway, secrets_):
    status, _, body = request(gateway, "POST", "/api/orders", cookies=cookies_of(secrets_),
                              headers={f"x-{PREFIX}-csrf": secrets_["csrf"]}, body=b"{}")
    assert status == 200, body
    seen = json.loads(body)
    assert seen["method"] == "POST"
    assert seen["body"] == "{}"
    assert seen["headers"]["authorization"] == f"Bearer {secrets_['token']}"
    # The session cookies and the CSRF headers are removed on the way (deploy/upstream-headers.js).
    assert "cookie" not in seen["headers"]
    assert f"x-{PREFIX}-csrf" not in seen["headers"]


def test_upstream_never_sees_the_session_cookies_or_csrf_headers(gateway, secrets_):
    status, _, body = request(gateway, "PUT", "/api/orders/1", cookies=cookies_of(secrets_),
                              headers={f"X-{PREFIX.upper()}-CSRF": secrets_["csrf"], "token-handler-version": "1",
                                       "X-Other": "kept"}, body=b"{}")
    assert status == 200, body
    seen = json.loads(body)["headers"]
    assert seen["x-other"] == "kept"
    assert not {"cookie", f"x-{PREFIX}-csrf", "token-handler-version"} & set(seen), seen
    assert secrets_["csrf"].encode() not in body and secrets_["at_cookie"].encode() not in body


def test_no_cookie_header_is_401_with_cors(gateway):
    # API Gateway answers this itself: the identity source (Cookie) is missing.
    status, headers, _ = request(gateway, "GET", "/api/orders")
    assert status == 401
    assert_cors(headers)


def test_no_access_token_cookie_is_401_with_cors(gateway):
    status, headers, _ = request(gateway, "GET", "/api/orders", cookies={"unrelated": "1"})
    assert status == 401
    assert_cors(headers)


def test_bad_cookie_is_401_with_cors(gateway, secrets_):
    other_key_cookie = oauth_proxy.encrypt_cookie(secrets_["token"], os.urandom(32).hex())
    for value in (other_key_cookie, "not-a-cookie", secrets_["at_cookie"][:-3] + "xyz"):
        status, headers, _ = request(gateway, "GET", "/api/orders",
                                     cookies={f"{PREFIX}-at": value})
        assert status == 401, value
        assert_cors(headers)


def test_post_without_csrf_header_is_403_with_cors(gateway, secrets_):
    status, headers, _ = request(gateway, "POST", "/api/orders", cookies=cookies_of(secrets_),
                                 body=b"{}")
    assert status == 403
    assert_cors(headers)


def test_delete_with_wrong_csrf_header_is_403(gateway, secrets_):
    status, _, _ = request(gateway, "DELETE", "/api/orders/1", cookies=cookies_of(secrets_),
                           headers={f"x-{PREFIX}-csrf": "guessed"})
    assert status == 403


def test_untrusted_origin_is_403(gateway, secrets_):
    status, _, _ = request(gateway, "GET", "/api/orders",
                                 cookies=cookies_of(secrets_, csrf=False),
                                 headers={"Origin": "https://evil.example.net"})
    assert status == 403
    # No CORS check here: serverless-offline reflects any Origin into
    # Access-Control-Allow-Origin (its REST API CORS is synthetic); the real
    # gateway's static CORS headers are checked on the rendered template.


def test_preflight_is_answered_without_the_authorizer(gateway):
    status, headers, _ = request(gateway, "OPTIONS", "/api/orders", headers={
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": f"content-type,x-{PREFIX}-csrf"})
    assert status in (200, 204)
    assert_cors(headers)
    assert f"x-{PREFIX}-csrf" in headers.get("access-control-allow-headers", "")


def test_emulator_log_holds_no_secret(gateway, secrets_):
    # Runs after the requests above (pytest keeps file order): whatever the
    # authorizer logged on its denials reached serverless-offline's output.
    # (The gateway is shared: the browser test's requests may be in it too.)
    log = gateway["log"].read_text()
    assert "Running Authorization function" in log
    for secret in (secrets_["key"], secrets_["token"], secrets_["at_cookie"],
                   secrets_["csrf_cookie"], secrets_["csrf"]):
        assert secret not in log


def test_phantom_token_upstream_sees_the_jwt(phantom, secrets_):
    handler = phantom["handler"]
    active = oauth_proxy.encrypt_cookie(handler.active, secrets_["key"])
    status, _, body = request(phantom, "GET", "/api/orders", cookies={f"{PREFIX}-at": active})
    assert status == 200, body
    assert json.loads(body)["headers"]["authorization"] == f"Bearer {handler.jwt}"
    assert True in handler.calls

    inactive = oauth_proxy.encrypt_cookie("opaque-revoked", secrets_["key"])
    status, _, _ = request(phantom, "GET", "/api/orders", cookies={f"{PREFIX}-at": inactive})
    assert status == 401
    assert False in handler.calls
    log = phantom["log"].read_text()
    for secret in (handler.active, handler.jwt, "not-a-real-secret", secrets_["key"]):
        assert secret not in log


def test_printed_curl_lines_reach_the_upstream_through_the_authorizer(offline_gateway):
    """What `make offline` tells a user to paste: each printed curl line, run by a shell, gets 200 from the
    echo upstream, which saw the token the printed cookie holds as `Authorization: Bearer`."""
    assert len(offline_gateway.curl_lines) == 2  # a GET, and a POST with the CSRF cookie and header
    for line in offline_gateway.curl_lines:
        run = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=REQUEST_TIMEOUT * 2)
        assert run.returncode == 0, run.stderr
        body, status = run.stdout.rstrip("\n").rsplit("\n", 1)
        assert status == "200", run.stdout
        authorization = json.loads(body)["headers"]["authorization"]
        scheme, token = authorization.split(" ")
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert scheme == "Bearer" and claims["sub"] == "offline-user"


def test_make_offline_reuses_a_current_artifact_and_rebuilds_a_stale_one(tmp_path):
    """scripts/offline in a copy of the tree whose scripts/build_artifact is a stand-in that counts builds."""
    root = tmp_path / "clone"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "offline", root / "scripts" / "offline")
    for folder in ("csrc", "src"):
        (root / folder).mkdir()
        (root / folder / "source").write_text("")
    for name in ("handler.py", "setup.py", "pyproject.toml"):
        (root / name).write_text("")
    (root / "scripts" / "build_artifact").write_text(
        "import pathlib, sys\n"
        "root = pathlib.Path(__file__).resolve().parent.parent\n"
        "arch = sys.argv[sys.argv.index('--arch') + 1]\n"
        "(root / 'artifact').mkdir(exist_ok=True)\n"
        "(root / 'artifact' / f'oauth-proxy-lambda-{arch}.zip').write_text('zip')\n"
        "with open(root / 'builds', 'a') as builds:\n"
        "    builds.write('+')\n")
    loader = importlib.machinery.SourceFileLoader("offline_script", str(root / "scripts" / "offline"))
    script = importlib.util.module_from_spec(importlib.util.spec_from_loader("offline_script", loader))
    loader.exec_module(script)

    def builds() -> int:
        return len((root / "builds").read_text())

    zip_path = script.current_artifact()
    assert zip_path.exists() and builds() == 1  # missing: built
    script.current_artifact()
    assert builds() == 1  # current: reused
    (root / "src" / "__pycache__").mkdir()
    (root / "src" / "__pycache__" / "source.pyc").write_text("")
    later = zip_path.stat().st_mtime + 10
    os.utime(root / "src" / "__pycache__" / "source.pyc", (later, later))
    script.current_artifact()
    assert builds() == 1  # bytecode is not a source
    os.utime(root / "csrc" / "source", (later, later))
    script.current_artifact()
    assert builds() == 2  # a source newer than the zip: rebuilt
