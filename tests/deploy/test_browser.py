"""A real browser through the `make offline` gateway: headless Chromium loads the SPA page
(tests/deploy/spa/index.html) from its own origin, logs in at a stand-in OAuth Agent that sets the HttpOnly,
Secure, SameSite=Strict cookies, and calls the gateway with `credentials: 'include'`, as an SPA does.

Host names and why this works on one machine: tests/deploy/spa_site.py. In short, the SPA, the agent and the
gateway are subdomains (and ports) of one site, `site.localhost`; cookies are not port-isolated, so the
agent's cookies for api.site.localhost reach the gateway on another port of that host, and every call is
same-site, so SameSite=Strict cookies go along.

Each test runs twice: with the cookie prefix `example` (gateway shared with test_deploy_offline.py) and with
`__Host-example` (a second gateway), the prefix docs/security.md recommends against cookie tossing.

Where serverless-offline differs from API Gateway (docs/deploy/local.md, "Local gateway emulation and what it
cannot show"), the comments at the assertions say so.
"""

from __future__ import annotations

import urllib.parse

import pytest

from . import cdp
from .deploy_helpers import PREFIX
from .offline_gateway import run_offline
from .spa_site import SITE

HOST_PREFIX = "__Host-example"
SPA_FLOW = ["before_login", "login", "get", "post", "post_no_csrf", "delete_wrong_csrf"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module; each test opens its own browser context (its own cookie jar)."""
    if cdp.chromium_executable() is None:
        pytest.fail("chromium is not installed: scripts/apt-install chromium (make test does)")
    folder = tmp_path_factory.mktemp("chromium")
    # Chromium resolves localhost and *.localhost to loopback itself (::1 and 127.0.0.1); the rules pin them
    # to the address the servers listen on.
    instance = cdp.Browser(folder / "profile", folder / "chromium.log",
                           ["--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1"])
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def host_prefix_gateway(osls, artifact, gateway_secrets, spa_site, tmp_path_factory):
    config = {"TRUSTED_WEB_ORIGINS": spa_site.spa_origin, "COOKIE_NAME_PREFIX": HOST_PREFIX,
              "ENCRYPTION_KEY": gateway_secrets["key"]}
    with run_offline(artifact, tmp_path_factory.mktemp("offline-host-prefix"), config) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("browser-screenshots")


@pytest.fixture(params=[PREFIX, HOST_PREFIX])
def setup(request, offline_gateway, spa_site):
    """(cookie prefix, gateway base URL as the browser calls it) for one run."""
    gateway = offline_gateway if request.param == PREFIX else request.getfixturevalue("host_prefix_gateway")
    return request.param, f"http://api.{SITE}:{gateway.port}"


class SpaRun:
    """Runs the page's steps in one browser context and saves a screenshot of the results table."""

    page_path = ""  # the SPA page under the origin: index.html

    def __init__(self, browser, site, prefix, gateway, screenshots, capsys, name, agent=None):
        self.browser, self.site, self.prefix, self.gateway = browser, site, prefix, gateway
        self.agent = agent or site.agent
        self.context = browser.new_context()
        self.screenshots, self.capsys, self.name = screenshots, capsys, name
        self.pages = []

    def steps(self, origin: str, steps: list[str]) -> list[dict]:
        page = self.browser.page(self.context)
        self.pages.append(page)
        query = urllib.parse.urlencode({"gateway": self.gateway, "agent": self.agent,
                                        "prefix": self.prefix, "steps": ",".join(steps)})
        page.navigate(f"{origin}/{self.page_path}?{query}")
        results = page.evaluate("window.finished")
        shot = page.screenshot(self.screenshots / f"{self.name}-{self.prefix}-{len(self.pages)}.png")
        with self.capsys.disabled():
            print(f"\n  browser screenshot: {shot}")
        return results


def by_step(results: list[dict]) -> dict[str, dict]:
    return {row["step"]: row for row in results}


def test_spa_calls_the_api_through_the_authorizer(browser, spa_site, setup, gateway_secrets, screenshots,
                                                    capsys):
    prefix, gateway = setup
    run = SpaRun(browser, spa_site, prefix, gateway, screenshots, capsys, "spa")
    results = by_step(run.steps(spa_site.spa_origin, SPA_FLOW))
    bearer = f"Bearer {gateway_secrets['token']}"

    # No cookie at all: API Gateway answers 401 itself (the Cookie identity source is missing).
    assert results["no cookie yet"]["status"] == 401
    assert results["login at the OAuth Agent"]["status"] == 200
    # GET and POST reach the upstream with the token from the cookie. The POST carries the CSRF header and
    # JSON, so the browser sent a CORS pre-flight first (serverless-offline answers every OPTIONS itself;
    # the deployed API answers it with its MOCK OPTIONS method for the trusted origin only).
    assert results["GET"]["status"] == 200 and results["GET"]["authorization"] == bearer
    assert results["POST with CSRF header"]["status"] == 200
    assert results["POST with CSRF header"]["authorization"] == bearer
    # The session cookies and the CSRF header stay at the gateway: the integration removes them.
    for step in ("GET", "POST with CSRF header"):
        seen = results[step]["upstreamHeaders"]
        assert "authorization" in seen and "cookie" not in seen, seen
        assert f"x-{prefix.lower()}-csrf" not in seen and "token-handler-version" not in seen, seen
    preflights = [e["params"]["request"]["headers"] for page in run.pages
                  for e in page.events("Network.requestWillBeSent")
                  if e["params"]["request"]["method"] == "OPTIONS"
                  and e["params"]["request"]["url"] == f"{gateway}/api/orders"]
    assert any(h.get("Access-Control-Request-Method") == "POST" and f"x-{prefix.lower()}-csrf"
               in h.get("Access-Control-Request-Headers", "").split(",") for h in preflights), preflights
    # The authorizer's 403s are readable by the page's script: the emulator reflects the Origin into the
    # CORS headers of every answer; on AWS the gateway responses in serverless.yml carry them.
    assert results["POST without CSRF header"]["status"] == 403
    assert results["DELETE with a wrong CSRF header"]["status"] == 403

    # The cookies the browser holds for the gateway: HttpOnly, Secure and SameSite=Strict, host-only.
    cookies = {c["name"]: c for c in run.pages[0].cookies([gateway])}
    assert set(cookies) == {f"{prefix}-at", f"{prefix}-csrf"}
    for cookie in cookies.values():
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert cookie["domain"] == f"api.{SITE}"


def test_spa_on_localhost_ports(browser, spa_site, offline_gateway, gateway_secrets, screenshots, capsys):
    """A developer's machine: SPA dev server, OAuth Agent and `make offline` gateway on three ports of
    localhost. One host, so the agent's host-only cookies reach the gateway; one site, so SameSite=Strict
    cookies go along."""
    run = SpaRun(browser, spa_site, PREFIX, f"http://localhost:{offline_gateway.port}", screenshots, capsys,
                 "localhost", agent=f"http://localhost:{spa_site.agent_port}")
    results = by_step(run.steps(spa_site.localhost_origin, SPA_FLOW))
    assert [row["status"] for row in results.values()] == [401, 200, 200, 200, 403, 403]
    assert results["GET"]["authorization"] == results["POST with CSRF header"]["authorization"] \
        == f"Bearer {gateway_secrets['token']}"


def test_untrusted_origin_and_cookie_tossing(browser, spa_site, setup, gateway_secrets, screenshots, capsys):
    """The user logs in; a page on the attacker's sibling subdomain (evil.site.localhost, the same page from
    an untrusted origin) calls the gateway with the user's cookies, then plants an access-token cookie of
    the attacker's own account for the whole site; then the user's SPA calls the API again."""
    prefix, gateway = setup
    run = SpaRun(browser, spa_site, prefix, gateway, screenshots, capsys, "tossing")
    run.steps(spa_site.spa_origin, ["login"])

    evil = by_step(run.steps(spa_site.evil_origin, ["get", "plant"]))
    # Same site, so the user's SameSite=Strict cookies went along: only the authorizer's origin check refuses
    # it. serverless-offline reflects any Origin into its CORS headers, so the page reads the 403; behind API
    # Gateway the 403 names only the trusted origin and the page's script sees a network error instead.
    assert evil["GET"]["status"] == 403
    assert evil["attacker plants a cookie"]["status"] == 200

    after = by_step(run.steps(spa_site.spa_origin, ["get"]))["GET"]
    assert after["status"] == 200
    held = [c for c in run.pages[-1].cookies([gateway + "/api/orders"]) if c["name"] == f"{prefix}-at"]
    if prefix == PREFIX:
        # The attack works without the prefix: the browser sends the planted cookie (Domain=site.localhost,
        # Path=/api) before the user's, the authorizer takes the first that decrypts, and the user's
        # requests run as the attacker. The authorizer cannot tell: both cookies are valid.
        assert sorted(c["domain"] for c in held) == [f".{SITE}", f"api.{SITE}"]
        assert after["authorization"] == f"Bearer {gateway_secrets['attacker_token']}"
    else:
        # With __Host- the browser refuses a cookie that has a Domain attribute (or a Path other than /), so
        # nothing set by a sibling subdomain can reach the gateway; Chromium reports why.
        assert [c["domain"] for c in held] == [f"api.{SITE}"]
        assert after["authorization"] == f"Bearer {gateway_secrets['token']}"
        refused = [(b["blockedReasons"], b["cookieLine"].split("=")[0])
                   for page in run.pages for e in page.events("Network.responseReceivedExtraInfo")
                   for b in e["params"].get("blockedCookies", [])]
        assert (["InvalidPrefix"], f"{prefix}-at") in refused, refused
