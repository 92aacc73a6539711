"""Headless Chromium driven over the Chrome DevTools Protocol on a pipe (--remote-debugging-pipe).

The browser reads commands from its file descriptor 3 and writes answers and events to 4, as JSON messages
ended by a NUL byte: no debugging port, no WebSocket library, no driver binary. The browser is Debian's
`chromium` (scripts/apt-install chromium on a fresh machine).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

# The machine has no network: without these, background services (updates, sync, safe browsing, QUIC
# probes) try to reach Google and flood the log with refused connections.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--no-default-browser-check", "--mute-audio",
         "--window-size=1000,900", "--remote-debugging-pipe"]


def chromium_executable() -> str | None:
    # Debian's /usr/bin/chromium is a shell wrapper around this binary; the wrapper passes file descriptors
    # through too, but the binary is started directly where it is.
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """One Chromium process; `page()` opens a tab and returns its session."""

    def __init__(self, user_data_dir: Path, log: Path, extra_flags: list[str] = ()) -> None:
        exe = chromium_executable()
        if exe is None:
            raise CDPError("chromium not found: scripts/apt-install chromium")
        self.log = log
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        with log.open("wb") as out:
            # bash moves the two pipe ends onto descriptors 3 and 4 before exec'ing the browser (dash's
            # redirections take single-digit descriptors only).
            self.proc = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}',
                 exe, *FLAGS, *extra_flags, f"--user-data-dir={user_data_dir}", "about:blank"],
                pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._answers: dict[int, dict] = {}
        self._events: list[dict] = []
        self._closed = False
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self._events.append(message)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except OSError as error:
            raise CDPError(f"{method}: the browser is gone ({error}); see {self.log}") from None
        with self._cond:
            if not self._cond.wait_for(lambda: ident in self._answers or self._closed, timeout):
                raise CDPError(f"{method}: no answer within {timeout}s; see {self.log}")
            if ident not in self._answers:
                raise CDPError(f"{method}: the browser closed the pipe; see {self.log}")
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        return answer["result"]

    def events(self, method: str, session: str | None = None) -> list[dict]:
        with self._cond:
            return [e for e in self._events if e["method"] == method
                    and (session is None or e.get("sessionId") == session)]

    def wait_for_event(self, method: str, session: str, seen_before: int, timeout: float = 60) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or len(
                    [e for e in self._events if e["method"] == method and e.get("sessionId") == session])
                    > seen_before, timeout):
                raise CDPError(f"no {method} within {timeout}s")

    def new_context(self) -> str:
        """A browser context: its own cookie jar and storage, like a fresh incognito window."""
        return self.send("Target.createBrowserContext")["browserContextId"]

    def page(self, context: str | None = None) -> "Page":
        params = {"url": "about:blank", **({"browserContextId": context} if context else {})}
        target = self.send("Target.createTarget", params)["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except CDPError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self._to_browser)
        self._reader.join(timeout=10)
        os.close(self._from_browser)


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.browser.send(method, params, self.session, timeout)

    def navigate(self, url: str) -> None:
        """Loads url and returns after its load event (so evaluate() runs in the new document)."""
        loads = len(self.browser.events("Page.loadEventFired", self.session))
        answer = self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise CDPError(f"navigate {url}: {answer['errorText']}")
        self.browser.wait_for_event("Page.loadEventFired", self.session, loads)

    def events(self, method: str) -> list[dict]:
        return self.browser.events(method, self.session)

    def evaluate(self, expression: str, timeout: float = 120):
        """The value of a JavaScript expression; a Promise is awaited."""
        answer = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout)
        if "exceptionDetails" in answer:
            raise CDPError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def cookies(self, urls: list[str]) -> list[dict]:
        return self.send("Network.getCookies", {"urls": urls})["cookies"]

    def screenshot(self, dest: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        dest.write_bytes(base64.b64decode(data))
        return dest
