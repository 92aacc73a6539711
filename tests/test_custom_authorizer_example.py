"""examples/custom_authorizer/app.py: an authorizer of its own built on authenticate + allow/deny, with a
tenant rule; both payload formats."""
from __future__ import annotations

import importlib.util
import json
import os
import re

import pytest

import oauth_proxy
from conftest import CSRF, KEY, ORIGIN, PREFIX, REPO, cookies, http_event, make_jwt, rest_event

APP = REPO / "examples" / "custom_authorizer" / "app.py"
ACME = make_jwt({"sub": "frank", "tenant": "acme", "scope": "orders"})
GLOBEX = make_jwt({"sub": "grace", "tenant": "globex"})
NO_TENANT = make_jwt({"sub": "heidi"})


@pytest.fixture
def app(monkeypatch):
    for name, value in {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY}.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("custom_authorizer_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rest(path: str, token: str = ACME, origin: str = ORIGIN, method: str = "GET") -> dict:
    headers = {"Origin": origin, "Cookie": cookies(token)}
    if method != "GET":
        headers[f"x-{PREFIX}-csrf"] = CSRF
    event = rest_event(method, headers)
    event["path"] = path
    return event


def http(path: str, token: str = ACME, origin: str = ORIGIN, stage: str = "$default") -> dict:
    event = http_event("POST", {"origin": origin, f"x-{PREFIX}-csrf": CSRF}, cookies(token).split("; "))
    event["rawPath"] = path if stage == "$default" else f"/{stage}{path}"
    event["requestContext"]["stage"] = stage
    return event


def test_allow_adds_the_tenant_rest(app, denials):
    response = app.handler(rest("/acme/orders/1"), None)
    assert response["principalId"] == "frank"
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert response["context"] == {"token": f"Bearer {ACME}", "tenant": "acme"}
    assert denials.reasons == []


@pytest.mark.parametrize("stage", ["$default", "prod"])
def test_allow_adds_the_tenant_http(app, stage):
    response = app.handler(http("/acme/orders", stage=stage), None)
    assert response == {"isAuthorized": True, "context": {"token": f"Bearer {ACME}", "tenant": "acme"}}


def test_no_cookie_is_a_401(app, denials):
    with pytest.raises(oauth_proxy.Unauthorized) as caught:
        app.handler(rest("/acme/orders", token=ACME) | {"headers": {"Origin": ORIGIN}}, None)
    assert str(caught.value) == "Unauthorized"
    assert denials.reasons == ["at_cookie_missing"]


@pytest.mark.parametrize("make", [rest, http])
def test_core_403_is_a_deny_logged_once(app, make, denials):
    response = app.handler(make("/acme/orders", origin="https://evil.example"), None)
    assert response.get("isAuthorized") is False or response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in response
    assert denials.reasons == ["untrusted_origin"]


@pytest.mark.parametrize("make", [rest, http])
@pytest.mark.parametrize("token,path", [(GLOBEX, "/acme/orders"), (NO_TENANT, "/acme/orders"), (ACME, "/"),
                                        (ACME, "/acmecorp/orders"), (ACME, "/prod/acme/orders")])
def test_tenant_rule_403(app, make, token, path, denials):
    response = app.handler(make(path, token=token), None)
    assert response.get("isAuthorized") is False or response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in response
    assert denials.reasons == ["tenant_mismatch"]


def test_metrics_line_per_invocation(app, monkeypatch, capsys):
    """With METRICS=true the example writes the EMF line of each invocation (proxy.emit_metrics)."""
    monkeypatch.setenv("METRICS", "true")
    spec = importlib.util.spec_from_file_location("custom_authorizer_app_metrics", APP)
    metered = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(metered)
    capsys.readouterr()
    metered.handler(rest("/acme/orders/1"), None)
    metered.handler(rest("/globex/orders/1"), None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["Allowed"], line["Denied"], line.get("Reason")) for line in lines] == [
        (1, 0, None), (0, 1, "tenant_mismatch")]


def test_the_examples_own_tests_pass(tmp_path):
    """examples/custom_authorizer/test_app.py, the recipe of docs/testing.md for testing one's own authorizer,
    run as its user runs it: pytest in the example's folder (a copy), the plugin's fixtures from the package."""
    import shutil
    import subprocess
    import sys

    for name in ("app.py", "test_app.py"):
        shutil.copy(APP.parent / name, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"\b6 passed\b", proc.stdout), proc.stdout
