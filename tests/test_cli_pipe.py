"""The oauth-proxy command writing into a pipe whose reader has gone (`oauth-proxy authorize - | head -1`):
it ends quietly, with the status a shell expects after SIGPIPE, and no traceback."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KEY, ORIGIN, PREFIX

CLI = Path(sys.executable).with_name("oauth-proxy")
ENV = {**os.environ, "ENCRYPTION_KEY": KEY, "TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX}


def event_json() -> bytes:
    return subprocess.run([str(CLI), "event", "POST", "/orders"], env=ENV, check=True, capture_output=True,
                          timeout=60).stdout


@pytest.mark.parametrize("args,given", [
    (["authorize", "-"], event_json),             # an allow: "allow" and the response
    (["event", "GET", "/orders", "--token", "-"], lambda: b"a-token"),
    (["encrypt", "-"], lambda: b"a-token"),
])
def test_a_reader_that_went_away_ends_the_command_quietly(args, given):
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([str(CLI), *args], stdin=subprocess.PIPE, stdout=write_end, stderr=subprocess.PIPE,
                            env=ENV)
    os.close(write_end)
    os.close(read_end)  # the reader is gone before the command writes: it reads its input first
    _, err = proc.communicate(given(), timeout=60)
    assert err.decode() == ""
    assert proc.returncode == 128 + signal.SIGPIPE
