"""Testing an SPA's calls through oauth-proxy with the pytest plugin's fixtures (docs: Testing with pytest)."""
from oauth_proxy.testing import SPOIL, decide, make_jwt


def test_spa_calls(spa_session, oauth_proxy_factory):
    proxy = oauth_proxy_factory(required_scopes="orders")
    spa_session.login(make_jwt({"sub": "alice", "scope": "openid orders"}))

    allowed = decide(proxy.authorize, spa_session.rest_event("POST", "/orders"))
    assert allowed.status == 200 and allowed.response["principalId"] == "alice"

    assert decide(proxy.authorize, spa_session.http_event("POST", "/orders", csrf_header=None)).reason == "csrf_header_missing"
    assert decide(proxy.authorize, spa_session.rest_event("GET", "/orders", origin=SPOIL)).status == 403
    assert decide(proxy.authorize, spa_session.rest_event("GET", "/orders", at_cookie=None)).status == 401


def test_phantom_token(spa_session, introspection_endpoint, oauth_proxy_factory):
    jwt = introspection_endpoint.issue("opaque-123", {"sub": "bob", "scope": "orders"})
    introspection_endpoint.inactive("revoked-456")
    proxy = oauth_proxy_factory(introspection=introspection_endpoint)

    assert decide(proxy.authorize, spa_session.rest_event(token="opaque-123")).token == f"Bearer {jwt}"
    assert decide(proxy.authorize, spa_session.rest_event(token="revoked-456")).reason == "token_inactive"
    assert introspection_endpoint.calls == 2
