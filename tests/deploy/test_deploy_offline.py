"""End to end through a gateway emulator: serverless-offline runs the
authorizer from the unpacked artifact in front of an echo function; a real
HTTP client sends the requests an SPA sends, with cookies from encrypt_cookie.

What serverless-offline cannot show is listed in tests/deploy/offline/serverless.yml
and notes/README-deploy.md."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml  # PyYAML comes with cfn-lint

import oauth_proxy

from .deploy_helpers import ORIGIN, PREFIX, ROOT, interpreters, make_jwt, node_tool_env

OFFLINE = Path(__file__).resolve().parent / "offline"
START_TIMEOUT = 90  # seconds for osls to load and listen, on a loaded 2-core CI box
REQUEST_TIMEOUT = 30  # the functions' own timeout is 10 s


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serverless-offline exited ({proc.returncode}):\n"
                        + log.read_text()[-4000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"serverless-offline did not listen within {START_TIMEOUT}s:\n"
                + log.read_text()[-4000:])


@pytest.fixture(scope="module")
def secrets_():
    key = os.urandom(32).hex()
    token = make_jwt({"sub": "spa-user", "scope": "openid", "exp": 4102444800})
    csrf = "0f5e1b2c-csrf"
    return {"key": key, "token": token, "csrf": csrf,
            "at_cookie": oauth_proxy.encrypt_cookie(token, key),
            "csrf_cookie": oauth_proxy.encrypt_cookie(csrf, key)}


@contextlib.contextmanager
def run_gateway(osls, unpacked, tmp_path_factory, env_extra: dict[str, str]):
    """serverless-offline on loopback, serving the unpacked artifact."""
    service = tmp_path_factory.mktemp("offline-service")
    shutil.copytree(unpacked, service, dirs_exist_ok=True)
    for f in OFFLINE.iterdir():
        if f.is_file():
            shutil.copy(f, service / f.name)
    shutil.copy(ROOT / "deploy" / "lambda-environment.yml", service)
    (service / "node_modules").symlink_to(ROOT / "node_modules")

    # serverless-offline starts `python3` from PATH for the python3.x runtime.
    # This one is the runtime's Python version where the machine has it (else
    # the test's), without site-packages (-S) and ignoring PYTHON* variables
    # (-I), so the functions import only what the service folder (the
    # artifact) holds.
    runtime = yaml.safe_load((OFFLINE / "serverless.yml").read_text())["provider"]["runtime"]
    python = interpreters().get(runtime.removeprefix("python"), sys.executable)
    bindir = service / ".bin"
    bindir.mkdir()
    shim = bindir / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{os.path.realpath(python)}" -I -S "$@"\n')
    shim.chmod(0o755)

    env = node_tool_env()
    env.pop("VIRTUAL_ENV", None)  # serverless-offline would put its bin first on PATH
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                # Empty means unset: the default names Amazon Linux's bundle.
                "INTROSPECTION_CA_FILE": "", **env_extra})
    http_port, lambda_port = free_port(), free_port()
    log = service / "offline.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            osls + ["offline", "start", "--httpPort", str(http_port),
                    "--lambdaPort", str(lambda_port)],
            cwd=service, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(http_port, proc, log)
        yield {"port": http_port, "log": log}
    finally:
        # The runner processes of the functions are in the same session.
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture(scope="module")
def gateway(osls, unpacked, secrets_, tmp_path_factory):
    with run_gateway(osls, unpacked, tmp_path_factory,
                     {"ENCRYPTION_KEY": secrets_["key"]}) as gw:
        yield gw


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
def phantom(osls, unpacked, secrets_, tmp_path_factory):
    """The gateway with phantom tokens on, against a loopback introspection
    endpoint: the exchange runs in the emulator's Python process, through the
    artifact's bundled libcurl."""
    handler = type("H", (_Introspection,), {
        "active": "opaque-4f1c9a", "calls": [],
        "jwt": make_jwt({"sub": "phantom-user", "scope": "openid", "exp": 4102444800})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {"ENCRYPTION_KEY": secrets_["key"], "USE_PHANTOM_TOKEN": "true",
           "INTROSPECTION_URL": f"http://127.0.0.1:{server.server_port}/introspect",
           "CLIENT_ID": "gateway", "CLIENT_SECRET": "not-a-real-secret"}
    try:
        with run_gateway(osls, unpacked, tmp_path_factory, env) as gw:
            yield {**gw, "handler": handler}
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
    status, headers, body = request(gateway, "GET", "/api/orders/42",
                                    cookies=cookies_of(secrets_, csrf=False))
    assert status == 200, body
    seen = json.loads(body)
    assert seen["Authorization"] == f"Bearer {secrets_['token']}"
    assert seen["principalId"] == "spa-user"
    assert seen["method"] == "GET"
    assert seen["path"] == "orders/42"
    assert_cors(headers)


def test_lambda_proxy_upstream_sees_authorizer_context(gateway, secrets_):
    status, _, body = request(gateway, "GET", "/proxy/orders",
                              cookies=cookies_of(secrets_, csrf=False))
    assert status == 200, body
    seen = json.loads(body)
    assert seen["authorizer"]["token"] == f"Bearer {secrets_['token']}"
    assert seen["authorizer"]["principalId"] == "spa-user"


def test_post_with_csrf_header_reaches_upstream(gateway, secrets_):
    status, _, body = request(gateway, "POST", "/api/orders", cookies=cookies_of(secrets_),
                              headers={f"x-{PREFIX}-csrf": secrets_["csrf"]}, body=b"{}")
    assert status == 200, body
    seen = json.loads(body)
    assert seen["method"] == "POST"
    assert seen["Authorization"] == f"Bearer {secrets_['token']}"


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
    assert json.loads(body)["Authorization"] == f"Bearer {handler.jwt}"
    assert json.loads(body)["principalId"] == "phantom-user"
    assert True in handler.calls

    inactive = oauth_proxy.encrypt_cookie("opaque-revoked", secrets_["key"])
    status, _, _ = request(phantom, "GET", "/api/orders", cookies={f"{PREFIX}-at": inactive})
    assert status == 401
    assert False in handler.calls
    log = phantom["log"].read_text()
    for secret in (handler.active, handler.jwt, "not-a-real-secret", secrets_["key"]):
        assert secret not in log
