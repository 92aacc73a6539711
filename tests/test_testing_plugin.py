"""The oauth-proxy pytest plugin, run as a user would: pytester writes a user's test files into a fresh
directory and runs pytest on them, with the plugin loaded through its pytest11 entry point."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
# The page that documents the plugin; the test file it shows is included from examples/.
PAGE = REPO / "docs" / "testing.md"
EXAMPLE = REPO / "examples" / "pytest" / "test_orders_auth.py"


def test_the_documented_example_passes(pytester):
    assert f'--8<-- "{EXAMPLE.relative_to(REPO)}"' in PAGE.read_text(encoding="utf-8")
    pytester.makepyfile(test_orders_auth=EXAMPLE.read_text(encoding="utf-8"))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_wrong_expectation_fails(pytester):
    pytester.makepyfile(test_wrong="""
        from oauth_proxy.testing import decide

        def test_post_without_csrf_header_is_allowed(spa_session, oauth_proxy_factory):
            event = spa_session.rest_event("POST", "/orders", csrf_header=None)
            assert decide(oauth_proxy_factory().authorize, event).status == 200

        def test_post_with_it_is(spa_session, oauth_proxy_factory):
            assert decide(oauth_proxy_factory().authorize, spa_session.rest_event("POST", "/orders")).status == 200
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_post_without_csrf_header_is_allowed*"])


def test_fixtures_agree_and_can_be_overridden(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture
        def oauth_proxy_origin():
            return "https://app.example.org"

        @pytest.fixture
        def oauth_proxy_cookie_prefix():
            return "shop"
    """)
    pytester.makepyfile(test_overrides="""
        import oauth_proxy
        from oauth_proxy.testing import decide

        def test_the_session_and_the_config_agree(spa_session, oauth_proxy_config, oauth_proxy_key):
            assert spa_session.origin == "https://app.example.org" and spa_session.cookie_name_prefix == "shop"
            assert oauth_proxy_config.trusted_web_origins == ("https://app.example.org",)
            assert oauth_proxy_config.cookie_name_prefix == "shop" == spa_session.cookie_name_prefix
            assert oauth_proxy_config.encryption_key == oauth_proxy_key == spa_session.key_hex
            event = spa_session.http_event("PUT", "/cart")
            assert "x-shop-csrf" in event["headers"] and event["cookies"][0].startswith("shop-at=")
            assert decide(oauth_proxy.OAuthProxy(oauth_proxy_config).authorize, event).status == 200

        def test_the_key_lasts_the_session(oauth_proxy_key, request):
            assert len(oauth_proxy_key) == 64 and int(oauth_proxy_key, 16) >= 0
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_denials_and_the_endpoint_fixture(pytester):
    pytester.makepyfile(test_phantom="""
        import socket
        import pytest
        import oauth_proxy

        seen = {}

        def test_first(spa_session, introspection_endpoint, oauth_proxy_factory, oauth_proxy_denials):
            introspection_endpoint.fail("opaque-1")
            proxy = oauth_proxy_factory(introspection=introspection_endpoint)
            with pytest.raises(oauth_proxy.IntrospectionError):
                proxy.authorize(spa_session.rest_event(token="opaque-1"))
            proxy.authorize(spa_session.rest_event(origin=None))
            assert oauth_proxy_denials.reasons == ["introspection_failed", "missing_origin"]
            assert introspection_endpoint.calls_for("opaque-1") == 1
            seen["port"] = introspection_endpoint.port

        def test_the_endpoint_was_closed_after_it():
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", seen["port"]), timeout=5)
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_plugin_can_be_turned_off(pytester):
    pytester.makepyfile(test_off="""
        def test_uses_it(spa_session):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:oauth_proxy")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'spa_session' not found*"])


@pytest.mark.parametrize("fixture", ["oauth_proxy_key", "spa_session", "oauth_proxy_config", "oauth_proxy_factory",
                                     "introspection_endpoint", "oauth_proxy_denials"])
def test_every_fixture_is_documented(fixture):
    from oauth_proxy.testing import pytest_plugin

    assert getattr(pytest_plugin, fixture).__doc__ or pytest_plugin.__doc__.count(f"`{fixture}`")
    assert f"`{fixture}`" in PAGE.read_text(encoding="utf-8")
