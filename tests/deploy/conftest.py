"""Fixtures for the deployment checks: the Lambda artifact and the Node tools
(installed by `npm ci` from the committed lock file)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .deploy_helpers import MACHINE, NATIVE_ARCH, OSLS, ROOT, unzip


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
        return self.one(arch, f"oauth_proxy-*-cp310-abi3-manylinux_*_{MACHINE[arch]}.whl")

    def sdist(self, arch: str) -> Path:
        return self.one(arch, "oauth_proxy-*.tar.gz")

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
