"""The local gateway of `make offline`, started for tests the way a user starts it: scripts/offline, which
runs serverless-offline on the emulator project deploy/offline with the authorizer from a built artifact."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .deploy_helpers import ROOT, node_tool_env

START_TIMEOUT = 150  # seconds for osls to load and listen on a loaded 2-core CI box
BANNER_END = "Stop with Ctrl-C."


@dataclasses.dataclass
class Gateway:
    url: str  # http://localhost:<port>
    port: int
    log: Path  # everything scripts/offline and serverless-offline printed
    curl_lines: list[str]  # the curl commands the banner printed, in order
    pid: int  # scripts/offline, leader of the process group serverless-offline and its runners are in


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM is what a user's Ctrl-C amounts to: scripts/offline must stop serverless-offline and the
    function processes (in its process group) itself. Anything left is killed, and is an error."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        raise AssertionError("scripts/offline did not stop on SIGTERM") from None
    for _ in range(50):  # serverless-offline's own children may take a moment to exit
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("scripts/offline left processes running after SIGTERM")


@contextlib.contextmanager
def run_offline(artifact: Path, workdir: Path, config: dict[str, str]):
    """scripts/offline on free ports, with the given authorizer configuration (and nothing from the
    developer's environment: no AWS variables, no authorizer variables of their own)."""
    log = workdir / "offline.log"
    env = {**node_tool_env(), **config}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "offline"), "--port", "0", "--artifact", str(artifact),
             "--state-dir", str(workdir / "state")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while BANNER_END not in log.read_text():
            if proc.poll() is not None:
                pytest.fail(f"scripts/offline exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/offline printed no banner within {START_TIMEOUT}s:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        text = log.read_text()
        url = re.search(r"^Gateway:\s+(http://localhost:(\d+))/api/", text, re.M)
        curl_lines = [line.strip() for line in text.splitlines() if line.startswith("  curl ")]
        yield Gateway(url.group(1), int(url.group(2)), log, curl_lines, proc.pid)
    finally:
        _stop(proc)
