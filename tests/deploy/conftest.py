"""Fixtures for the deployment checks: the Lambda artifact, the Node tools (installed by `npm ci` from the
committed lock file), and the `make offline` gateway shared by the emulator and browser tests."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import oauth_proxy
import pytest

from .deploy_helpers import ORIGIN, OSLS, PREFIX, ROOT, make_jwt
from .offline_gateway import run_offline
from .spa_site import Servers


@pytest.fixture(scope="session")
def osls() -> list[str]:
    node = shutil.which("node")
    if node is None or not OSLS.exists():
        pytest.fail("Node.js tools missing: run `npm ci` in the repository root "
                    "(make test does)")
    return [node, str(OSLS)]


@pytest.fixture(scope="session")
def key_hex() -> str:
    return secrets.token_hex(32)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory) -> Path:
    """The zip scripts/build_artifact makes, built once per test session."""
    out = tmp_path_factory.mktemp("artifact")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_artifact"), "--python",
         sys.executable, "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    print(proc.stdout[proc.stdout.find("auditwheel tag:"):])
    zips = list(out.glob("oauth-proxy-lambda-*.zip"))
    assert len(zips) == 1, zips
    return zips[0]


@pytest.fixture(scope="session")
def unpacked(artifact, tmp_path_factory) -> Path:
    """The artifact unpacked into an empty folder, as Lambda does (/var/task)."""
    dest = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(artifact) as z:
        for info in z.infolist():
            z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(dest / info.filename, mode & 0o777)
    return dest


@pytest.fixture(scope="session")
def gateway_secrets(key_hex) -> dict:
    """What an OAuth Agent would have issued to one user: the key, the token, the CSRF value, and both
    cookies encrypted as the agent does."""
    token = make_jwt({"sub": "spa-user", "scope": "openid", "exp": 4102444800})
    csrf = "0f5e1b2c-csrf"
    return {"key": key_hex, "token": token, "csrf": csrf,
            "at_cookie": oauth_proxy.encrypt_cookie(token, key_hex),
            "csrf_cookie": oauth_proxy.encrypt_cookie(csrf, key_hex),
            "attacker_token": make_jwt({"sub": "attacker", "scope": "openid", "exp": 4102444800})}


@pytest.fixture(scope="session")
def spa_site(gateway_secrets):
    """The browser test's SPA server and stand-in OAuth Agent (tests/deploy/spa_site.py). Session-wide
    because the shared gateway must trust the SPA's origin, which includes the port the OS picked."""
    servers = Servers(gateway_secrets["key"], gateway_secrets["token"], gateway_secrets["attacker_token"])
    yield servers.site
    servers.close()


@pytest.fixture(scope="session")
def offline_gateway(osls, artifact, gateway_secrets, spa_site, tmp_path_factory):
    """One `make offline` gateway (scripts/offline) for the session: the emulator tests, the printed curl
    lines and the browser test share it. It trusts the tests' origin and the browser test's SPA."""
    config = {"TRUSTED_WEB_ORIGINS": f"{ORIGIN},{spa_site.spa_origin},{spa_site.localhost_origin}",
              "COOKIE_NAME_PREFIX": PREFIX,
              "ENCRYPTION_KEY": gateway_secrets["key"]}
    with run_offline(artifact, tmp_path_factory.mktemp("offline-gateway"), config) as gateway:
        yield gateway
