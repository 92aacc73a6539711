"""Fixtures for the deployment checks: the Lambda artifact, the Node tools (installed by `npm ci` from the
committed lock file), and the `make offline` gateway shared by the emulator and browser tests."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import oauth_proxy
import pytest

from .deploy_helpers import MACHINE, NATIVE_ARCH, ORIGIN, OSLS, PREFIX, ROOT, make_jwt, unzip
from .offline_gateway import run_offline
from .spa_site import Servers


@pytest.fixture(scope="session")
def osls() -> list[str]:
    node = shutil.which("node")
    if node is None or not OSLS.exists():
        pytest.fail("Node.js tools missing: run `npm ci` in the repository root "
                    "(make test does)")
    return [node, str(OSLS)]


@pytest.fixture(scope="module")
def placeholder_zip(tmp_path_factory) -> Path:
    """A stand-in function zip: packaging only checks that the artifact exists; the real one is tested in
    test_deploy_artifact.py."""
    import zipfile

    path = tmp_path_factory.mktemp("placeholder") / "placeholder.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("handler.py", "")
    return path


@pytest.fixture(scope="session")
def key_hex() -> str:
    return secrets.token_hex(32)


class Distribution:
    """What scripts/build_artifact writes, built once per test session and architecture (each arch
    is one run of the script: function zip, layer zip, wheel and sdist together)."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self._out: dict[str, Path] = {}
        self._unpacked: dict[tuple[str, str], Path] = {}

    def out(self, arch: str) -> Path:
        if arch not in self._out:
            out = self._tmp.mktemp(f"dist-{arch}")
            proc = subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "build_artifact"), "--arch", arch,
                 "--python", sys.executable, "--out", str(out)],
                capture_output=True, text=True, timeout=900, cwd=ROOT)
            assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
            print(proc.stdout[proc.stdout.find("auditwheel tag:"):])
            self._out[arch] = out
        return self._out[arch]

    def one(self, arch: str, pattern: str) -> Path:
        (found,) = self.out(arch).glob(pattern)
        return found

    def function_zip(self, arch: str) -> Path:
        return self.one(arch, f"oauth-proxy-lambda-{arch}.zip")

    def layer_zip(self, arch: str) -> Path:
        return self.one(arch, f"oauth-proxy-layer-{arch}.zip")

    def wheel(self, arch: str) -> Path:
        return self.one(arch, f"oauth_proxy_authorizer-*-cp310-abi3-manylinux_*_{MACHINE[arch]}.whl")

    def sdist(self, arch: str) -> Path:
        return self.one(arch, "oauth_proxy_authorizer-*.tar.gz")

    def function_dir(self, arch: str) -> Path:
        """The function zip unpacked into an empty folder, as Lambda does (/var/task)."""
        key = ("function", arch)
        if key not in self._unpacked:
            self._unpacked[key] = unzip(self.function_zip(arch), self._tmp.mktemp(f"task-{arch}"))
        return self._unpacked[key]

    def layer_dir(self, arch: str) -> Path:
        """The layer zip unpacked into an empty /opt-like folder (Lambda: /opt)."""
        key = ("layer", arch)
        if key not in self._unpacked:
            self._unpacked[key] = unzip(self.layer_zip(arch), self._tmp.mktemp(f"opt-{arch}"))
        return self._unpacked[key]


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Distribution:
    return Distribution(tmp_path_factory)


@pytest.fixture(scope="session")
def artifact(dist) -> Path:
    """This machine's function zip (the gateway emulator runs it)."""
    return dist.function_zip(NATIVE_ARCH)


@pytest.fixture(scope="session")
def unpacked(dist) -> Path:
    """This machine's function zip, unpacked as Lambda does (/var/task)."""
    return dist.function_dir(NATIVE_ARCH)


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
