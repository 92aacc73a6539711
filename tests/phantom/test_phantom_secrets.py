"""No token, JWT, client credential or response body in logs or exception messages."""

from __future__ import annotations

import logging
import time

import pytest

import oauth_proxy
from oauth_proxy.testing import Reply, make_jwt
from conftest import bearer_event, cookie_event, free_port

TOKEN = "OpaqueTokenValue-7f3c2a91"
CLIENT_ID = "ClientIdValue-a83b"
SECRET = "ClientSecretValue-5d1e"
BODY_MARKER = "ResponseBodyMarker-99c1"
JWT = make_jwt({"sub": "alice", "scope": "read", "exp": int(time.time()) + 600, "m": "JwtMarker-41aa"})

SECRETS = [TOKEN, CLIENT_ID, SECRET, BODY_MARKER, "JwtMarker-41aa", JWT.split(".")[1]]

SCENARIOS = {
    "jwt": Reply.jwt(JWT),
    "204": Reply(204),
    "active-false": Reply.json({"active": False, "note": BODY_MARKER}),
    "active-true": Reply.json({"active": True, "sub": BODY_MARKER}),
    "500": Reply(500, f"error {BODY_MARKER} {TOKEN}".encode()),
    "text-200": Reply(200, f"{BODY_MARKER} {TOKEN}".encode()),
    "oversized": Reply(200, (BODY_MARKER * 5000).encode()),
    "redirect": Reply(302, headers={"Location": f"http://127.0.0.1:1/{BODY_MARKER}"}),
    "abort": Reply(abort=True),
    "insufficient-scope": Reply.jwt(JWT),
}


@pytest.mark.parametrize("case", sorted(SCENARIOS))
@pytest.mark.parametrize("event", [bearer_event, cookie_event], ids=["bearer", "cookie"])
def test_nothing_secret_is_logged_or_raised(server, make_proxy, caplog, capfd, case, event):
    caplog.set_level(logging.DEBUG)
    server.reply = SCENARIOS[case]
    scopes = ["admin"] if case == "insufficient-scope" else []
    proxy = make_proxy(server.url, client_id=CLIENT_ID, client_secret=SECRET, required_scopes=scopes,
                       log_level="DEBUG")
    texts = []
    try:
        result = proxy.authorize(event(TOKEN))
        if case == "jwt":
            assert result["context"]["token"] == f"Bearer {JWT}"
        else:
            texts.append(repr(result))
    except Exception as exc:  # noqa: BLE001 - every exception text is inspected
        texts += [str(exc), repr(exc), repr(exc.args), str(exc.__cause__), str(exc.__context__)]
    out, err = capfd.readouterr()
    texts += [caplog.text, out, err]
    texts += [r.getMessage() for r in caplog.records]
    joined = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in joined, f"{case}: a secret leaked"


def test_transport_failures_do_not_leak(make_proxy, caplog, capfd, tls_server):
    caplog.set_level(logging.DEBUG)
    texts = []
    for url in [f"http://127.0.0.1:{free_port()}/introspect", tls_server.url]:
        proxy = make_proxy(url, client_id=CLIENT_ID, client_secret=SECRET, log_level="DEBUG")
        with pytest.raises(oauth_proxy.IntrospectionError) as info:
            proxy.authorize(bearer_event(TOKEN))
        texts += [str(info.value), repr(info.value)]
    out, err = capfd.readouterr()
    joined = "\n".join(texts + [caplog.text, out, err])
    for secret in SECRETS:
        assert secret not in joined


def test_config_errors_do_not_leak(tmp_path):
    base = dict(trusted_web_origins=["https://www.example.com"], cookie_name_prefix="example",
                encryption_key="00" * 32, use_phantom_token=True, client_id=CLIENT_ID, client_secret=SECRET)
    for bad in [
        dict(introspection_url=f"ftp://127.0.0.1/{SECRET}"),
        dict(introspection_url="http://127.0.0.1:1/x", introspection_ca_file=str(tmp_path / "none.pem")),
    ]:
        with pytest.raises(oauth_proxy.ConfigError) as info:
            oauth_proxy.OAuthProxy(oauth_proxy.Config(**{**base, **bad}))
        assert SECRET not in str(info.value) and CLIENT_ID not in str(info.value)
