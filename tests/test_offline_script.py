"""scripts/offline (make offline) before and around serverless-offline: a taken port is reported with its
likely cause instead of Node's bare EADDRINUSE, and the gateway does not outlive a script killed hard."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from conftest import REPO

SCRIPT = REPO / "scripts" / "offline"


def test_a_taken_port_is_named_with_its_likely_cause(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = subprocess.run([sys.executable, str(SCRIPT), "--port", str(port), "--state-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"port {port} is already in use" in proc.stderr
    assert "make offline" in proc.stderr and f"scripts/offline --port {port + 1}" in proc.stderr
    assert not list(tmp_path.iterdir())  # refused before building, unpacking or generating anything


def test_the_gateway_dies_with_the_script():
    """What scripts/offline starts gets SIGTERM when the script is killed with SIGKILL (no clean-up runs)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", f"""
import importlib.machinery, importlib.util, subprocess, sys, time
loader = importlib.machinery.SourceFileLoader("offline_script", {str(SCRIPT)!r})
script = importlib.util.module_from_spec(importlib.util.spec_from_loader("offline_script", loader))
loader.exec_module(script)
child = subprocess.Popen(script.with_parent_death_signal(["sleep", "300"]))
print(child.pid, flush=True)
time.sleep(300)
"""], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        # The death signal is armed by setpriv just before it becomes `sleep`: a parent killed earlier than
        # that leaves nothing armed (the script itself runs a minute before anyone kills it).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _command(child) != "sleep":
            time.sleep(0.05)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an orphan's zombie is reaped by init, or by us)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
