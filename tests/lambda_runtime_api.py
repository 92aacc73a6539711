"""A fake Lambda Runtime API on 127.0.0.1, enough to run a handler under the real runtime interface client
(`python -m awslambdaric handler.handler`, as Lambda's Python images do) and see what it answers.

It hands out the queued events one by one at GET /2018-06-01/runtime/invocation/next, with the headers the
service sends (request id, deadline, function ARN, trace id), and records what the runtime posts to
/invocation/<id>/response, /invocation/<id>/error and /init/error. Once every event is answered, `next`
holds the runtime until the server closes, as an idle Lambda environment would be frozen."""
from __future__ import annotations

import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
import time

from conftest import function_folder

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:authorizer"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != f"{PREFIX}/invocation/next":
            self._answer(404)
            return
        api = self.server.api
        invocation = api.next_invocation()
        if invocation is None:
            self.close_connection = True
            return
        request_id, event = invocation
        self._answer(200, json.dumps(event).encode(), {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        })

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path[len(PREFIX):].strip("/").split("/")
        if parts == ["init", "error"]:
            self.server.api.record("init_error", None, body)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            self.server.api.record(parts[2], parts[1], body)
        else:
            self._answer(404)
            return
        self._answer(202, b'{"status":"OK"}', {"Content-Type": "application/json"})


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    api: "FakeRuntimeApi"

    def handle_error(self, request, client_address):
        pass  # the runtime is killed at the end of a test, with its connection open


class FakeRuntimeApi:
    def __init__(self, events: list) -> None:
        self._queue = [(f"lambda-request-{n}", event) for n, event in enumerate(events)]
        self.request_ids = [request_id for request_id, _ in self._queue]
        self.outcomes: dict = {}  # request id -> ("response" | "error", parsed body)
        self.init_errors: list = []
        self._lock = threading.Condition()
        self._closing = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def next_invocation(self):
        with self._lock:
            while not self._queue and not self._closing:
                self._lock.wait()
            return None if self._closing else self._queue.pop(0)

    def record(self, kind: str, request_id, body: bytes) -> None:
        with self._lock:
            if kind == "init_error":
                self.init_errors.append(json.loads(body))
            else:
                self.outcomes[request_id] = (kind, json.loads(body) if body else None)
            self._lock.notify_all()

    def wait_until_done(self, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(
                lambda: len(self.outcomes) == len(self.request_ids) or self.init_errors, timeout)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()


def run_in_lambda_runtime(events: list, env: dict, timeout: float = 60) -> tuple:
    """Runs handler.handler under awslambdaric for the events. Returns (api, stdout, stderr): the runtime's
    answers are in api.outcomes (by api.request_ids), its log output in stdout."""
    api = FakeRuntimeApi(events)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "_LAMBDA"))}
    child_env.update({"AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": "authorizer",
                      "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "PYTHONUNBUFFERED": "1"})
    child_env.update(env)
    child_env["PYTHONPATH"] = function_folder()  # handler.py, as in /var/task (LAMBDA_TASK_ROOT)
    child_env = {k: v for k, v in child_env.items() if v is not None}
    # The way Lambda's Python base images start a function (their entry point runs this), from outside
    # the source tree so the installed package is the one loaded.
    process = subprocess.Popen([sys.executable, "-m", "awslambdaric", "handler.handler"], env=child_env,
                               cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        api.wait_until_done(timeout)
    finally:
        process.terminate()
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        api.close()
    return api, stdout, stderr
