"""scripts/build_artifact refuses what it cannot build correctly."""

from __future__ import annotations

import subprocess
import sys

from .deploy_helpers import ROOT

SCRIPT = ROOT / "scripts" / "build_artifact"


def build(*args: str, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--python", sys.executable,
                           "--out", str(out), *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_a_result_needing_a_newer_glibc_is_refused(tmp_path):
    # Debian 12's libcrypto needs glibc 2.34; pretend the target is older.
    proc = build("--max-glibc", "2.17", out=tmp_path)
    assert proc.returncode != 0
    assert "newer than 2.17" in proc.stderr
    assert not list(tmp_path.glob("*.zip"))
