"""moto's server mode (an AWS API emulator speaking the services' real HTTP protocols) on 127.0.0.1, for the
tests of secrets fetched from Secrets Manager and Parameter Store. Started once per test session as a
subprocess on a free port; each test gets it reset (no secret left over from another test).

`moto_env` is the AWS environment a Lambda function would have, pointed at the emulator through the SDKs'
standard endpoint override."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REGION = "eu-west-1"
AWS_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,  # what boto3 reads; Lambda sets both
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE-session-token",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    __test__ = False

    def __init__(self, extra_args: tuple = ()) -> None:
        self.port = _free_port()
        scheme = "https" if "-c" in extra_args else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        env = dict(os.environ, MOTO_PORT=str(self.port))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port), *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("moto_server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("moto_server did not start within 60 s")
                time.sleep(0.1)

    def warm_up(self) -> None:
        """moto loads a service's code at its first request, which can take seconds on a busy machine:
        longer than the client's deadline. One request to each service here, so the tests' first one is
        not that one."""
        self.boto3("secretsmanager").list_secrets()
        self.boto3("ssm").describe_parameters()

    def reset(self) -> None:
        """Forgets every resource (moto's own API; plain HTTP only)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    def env(self) -> dict:
        return {**AWS_ENV, "AWS_ENDPOINT_URL": self.url}

    def boto3(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=AWS_ENV["AWS_SESSION_TOKEN"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def moto_session():
    server = MotoServer()
    server.warm_up()
    yield server
    server.close()


@pytest.fixture
def moto(moto_session):
    moto_session.reset()
    return moto_session


@pytest.fixture
def moto_env(moto) -> dict:
    return moto.env()


