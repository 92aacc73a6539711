"""The real browser against a gateway in Curity's second-generation setup: COOKIE_FORMAT=v2 and
CSRF_MODE=header. Headless Chromium loads tests/deploy/spa/header.html, logs in at the stand-in OAuth Agent,
which sets one v2 access-token cookie and no CSRF cookie, and calls the `make offline` gateway with the
`token-handler-version: 1` header, as Curity's 2024 SPAs do.

The same site and hosts as tests/deploy/test_browser.py (see tests/deploy/spa_site.py for why one machine
can play SPA, agent, attacker and gateway).
"""

from __future__ import annotations

import pytest

from .deploy_helpers import PREFIX
from .offline_gateway import run_offline
from .spa_site import SITE
from .test_browser import SpaRun, browser, by_step, screenshots  # noqa: F401 - fixtures shared with that module

FLOW = ["before_login", "login", "get", "post", "get_no_header", "post_no_header", "delete_wrong_version"]


@pytest.fixture(scope="module")
def header_gateway(osls, artifact, gateway_secrets, spa_site, tmp_path_factory):
    config = {"TRUSTED_WEB_ORIGINS": f"{spa_site.spa_origin},{spa_site.localhost_origin}",
              "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": gateway_secrets["key"],
              "COOKIE_FORMAT": "v2", "CSRF_MODE": "header"}
    with run_offline(artifact, tmp_path_factory.mktemp("offline-header-mode"), config) as gateway:
        yield f"http://api.{SITE}:{gateway.port}"


class HeaderRun(SpaRun):
    page_path = "header.html"


def preflights_for(run: SpaRun, url: str) -> list[dict]:
    return [e["params"]["request"]["headers"] for page in run.pages
            for e in page.events("Network.requestWillBeSent")
            if e["params"]["request"]["method"] == "OPTIONS" and e["params"]["request"]["url"] == url]


def test_header_mode_spa(browser, spa_site, header_gateway, gateway_secrets, screenshots, capsys):  # noqa: F811
    run = HeaderRun(browser, spa_site, PREFIX, header_gateway, screenshots, capsys, "header-mode")
    results = by_step(run.steps(spa_site.spa_origin, FLOW))
    bearer = f"Bearer {gateway_secrets['token']}"

    assert results["no cookie yet"]["status"] == 401  # API Gateway itself: no Cookie header at all
    assert results["login at the OAuth Agent"]["status"] == 200
    # Both calls with the header reach the upstream with the token from the v2 cookie.
    assert results["GET with header"]["status"] == 200 and results["GET with header"]["authorization"] == bearer
    assert results["POST with header"]["status"] == 200 and results["POST with header"]["authorization"] == bearer
    # The version header and the session cookie stay at the gateway: the integration removes them.
    for step in ("GET with header", "POST with header"):
        seen = results[step]["upstreamHeaders"]
        assert "authorization" in seen and "cookie" not in seen and "token-handler-version" not in seen, seen
    # The header made the browser ask first, even for the GET: a pre-flight naming token-handler-version.
    asked = preflights_for(run, f"{header_gateway}/api/orders")
    for method in ("GET", "POST"):
        assert any(h.get("Access-Control-Request-Method") == method and "token-handler-version"
                   in h.get("Access-Control-Request-Headers", "").split(",") for h in asked), (method, asked)
    # The same requests as simple requests (no pre-flight, as a forged form or image would send them, with
    # the user's cookie): the authorizer refuses them. The wrong version is refused too.
    assert results["GET without header"]["status"] == 403
    assert results["POST without header"]["status"] == 403
    assert results["DELETE with version 2"]["status"] == 403
    assert not any(h.get("Access-Control-Request-Method") == "GET" and "token-handler-version" not in
                   h.get("Access-Control-Request-Headers", "") for h in asked)

    # What the agent left in the browser: the v2 access-token cookie only.
    cookies = {c["name"]: c for c in run.pages[0].cookies([header_gateway])}
    assert set(cookies) == {f"{PREFIX}-at"}
    assert cookies[f"{PREFIX}-at"]["httpOnly"] and cookies[f"{PREFIX}-at"]["sameSite"] == "Strict"


def test_header_mode_refuses_another_origins_page(browser, spa_site, header_gateway, screenshots,  # noqa: F811
                                                   capsys):
    """The user logs in; the attacker's page on a sibling subdomain (same site, so the SameSite=Strict cookie
    goes along) sends the header too. serverless-offline answers every pre-flight itself, reflecting any
    origin, so the request is sent and the authorizer's origin check refuses it; behind API Gateway the
    pre-flight answer names only the trusted origin and the browser does not send the request at all."""
    run = HeaderRun(browser, spa_site, PREFIX, header_gateway, screenshots, capsys, "header-mode-evil")
    run.steps(spa_site.spa_origin, ["login"])
    evil = by_step(run.steps(spa_site.evil_origin, ["get", "post"]))
    assert evil["GET with header"]["status"] == 403
    assert evil["POST with header"]["status"] == 403
    assert evil["GET with header"].get("authorization") is None
