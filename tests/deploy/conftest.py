"""Fixtures for the deployment checks: the Lambda artifact and the Node tools
(installed by `npm ci` from the committed lock file)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .deploy_helpers import OSLS, ROOT


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
