"""Transport: TLS verification, connection reuse, threads, and loading libcurl lazily."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import oauth_proxy
from oauth_proxy.testing import Reply, make_jwt
from conftest import bearer_event

def a_jwt(sub="alice"):
    return make_jwt({"sub": sub, "exp": int(time.time()) + 600})


def test_https_untrusted_certificate_fails(tls_server, make_proxy):
    tls_server.reply = Reply.jwt(a_jwt())
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(tls_server.url).authorize(bearer_event("tok"))
    assert tls_server.calls == 0  # the token never reached an unverified peer


def test_https_with_ca_file_works(tls_server, test_ca, make_proxy):
    jwt = a_jwt()
    tls_server.reply = Reply.jwt(jwt)
    proxy = make_proxy(tls_server.url, introspection_ca_file=str(test_ca.ca_file))
    assert proxy.authorize(bearer_event("tok"))["context"]["token"] == f"Bearer {jwt}"
    assert tls_server.calls == 1


def test_ca_file_is_the_only_trust_store(tls_server, tmp_path, make_proxy):
    """A CA file of another authority: the server's chain no longer verifies."""
    from tls_ca import TestCA

    other = TestCA(tmp_path / "other", name="some other CA")
    tls_server.reply = Reply.jwt(a_jwt())
    with pytest.raises(oauth_proxy.IntrospectionError):
        make_proxy(tls_server.url, introspection_ca_file=str(other.ca_file)).authorize(bearer_event("tok"))
    assert tls_server.calls == 0


def test_https_host_name_is_verified(test_ca, make_proxy):
    """A chain from the trusted CA, but issued to another name: refused."""
    from oauth_proxy.testing import IntrospectionEndpoint

    wrong = IntrospectionEndpoint(test_ca.server_context(wrong_name=True))
    try:
        wrong.reply = Reply.jwt(a_jwt())
        with pytest.raises(oauth_proxy.IntrospectionError):
            make_proxy(wrong.url, introspection_ca_file=str(test_ca.ca_file)).authorize(bearer_event("tok"))
        assert wrong.calls == 0
    finally:
        wrong.close()


def test_unreadable_ca_file_is_a_config_error(tmp_path, make_proxy):
    with pytest.raises(oauth_proxy.ConfigError, match="INTROSPECTION_CA_FILE"):
        make_proxy("https://127.0.0.1:1/x", introspection_ca_file=str(tmp_path / "missing.pem"))


def test_sequential_misses_reuse_one_connection(server, make_proxy):
    server.reply = Reply.jwt(a_jwt())
    proxy = make_proxy(server.url, introspection_cache_ttl=0)
    for i in range(100):
        proxy.authorize(bearer_event(f"tok-{i}"))
    assert server.calls == 100
    assert server.connections == 1


def test_https_connection_is_reused(tls_server, test_ca, make_proxy):
    tls_server.reply = Reply.jwt(a_jwt())
    proxy = make_proxy(tls_server.url, introspection_ca_file=str(test_ca.ca_file), introspection_cache_ttl=0)
    for i in range(20):
        proxy.authorize(bearer_event(f"tok-{i}"))
    assert tls_server.connections == 1


def test_connection_close_from_server_is_handled(server, make_proxy):
    jwt = a_jwt()
    server.reply = Reply(200, jwt.encode(), "application/jwt", close=True)
    proxy = make_proxy(server.url, introspection_cache_ttl=0)
    for i in range(5):
        assert proxy.authorize(bearer_event(f"tok-{i}"))["context"]["token"] == f"Bearer {jwt}"
    assert server.connections == 5


def test_eight_threads_hammering_one_proxy(server, make_proxy):
    def by_token(req):
        token = req.body.decode().split("=", 1)[1]
        return Reply.jwt(make_jwt({"sub": token, "exp": int(time.time()) + 600}))

    server.reply = by_token
    proxy = make_proxy(server.url, introspection_cache_size=16)
    errors, mismatches = [], []

    def work(n):
        try:
            for i in range(60):
                token = f"t{(n * 7 + i) % 40}"  # 40 tokens, cache of 16: hits, misses, evictions
                got = proxy.authorize(bearer_event(token))["principalId"]
                if got != token:
                    mismatches.append((token, got))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and mismatches == []
    assert 40 <= server.calls <= 8 * 60


def test_gil_is_released_during_the_transfer(server, make_proxy):
    """A slow introspection must not stop other Python threads."""
    server.reply = Reply(200, a_jwt().encode(), "application/jwt", delay=1.0)
    proxy = make_proxy(server.url)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        proxy.authorize(bearer_event("tok"))
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 5  # the ticker ran while authorize waited on the network


def _run(code: str, cwd: pathlib.Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # cwd outside the source tree: the package under test is the installed one, with its extension.
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60, cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_libcurl_is_loaded_only_when_phantom_tokens_are_enabled(server, tmp_path):
    code = f"""
        import oauth_proxy
        def curl_loaded():
            with open("/proc/self/maps") as f:
                return "libcurl" in f.read()
        cfg = dict(trusted_web_origins=["https://www.example.com"], cookie_name_prefix="example",
                   encryption_key="00" * 32)
        oauth_proxy.OAuthProxy(oauth_proxy.Config(**cfg))
        print("plain", curl_loaded())
        oauth_proxy.OAuthProxy(oauth_proxy.Config(**cfg, use_phantom_token=True,
                               introspection_url={server.url!r}, client_id="id", client_secret="s"))
        print("phantom", curl_loaded())
    """
    out = _run(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["plain", "False", "phantom", "True"]


def test_missing_libcurl_is_a_clear_config_error(tmp_path, server):
    # A broken libcurl.so.4 first on the search path stands in for a missing one.
    (tmp_path / "libcurl.so.4").write_bytes(b"not a shared object")
    code = f"""
        import oauth_proxy
        cfg = oauth_proxy.Config(trusted_web_origins=["https://www.example.com"], cookie_name_prefix="example",
                                 encryption_key="00" * 32, use_phantom_token=True,
                                 introspection_url={server.url!r}, client_id="id", client_secret="TopSecret42")
        try:
            oauth_proxy.OAuthProxy(cfg)
        except oauth_proxy.ConfigError as exc:
            print("ConfigError:", exc)
    """
    out = _run(code, tmp_path, {"LD_LIBRARY_PATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ConfigError:")
    assert "libcurl" in out.stdout
    assert "TopSecret42" not in out.stdout + out.stderr


def test_queued_calls_are_bounded_by_their_own_timeout(server, make_proxy):
    """Eight threads against a hung endpoint: each call gives up after about its timeout, not after
    waiting for the seven calls queued before it on the one connection (that would take 8 s here)."""
    server.reply = Reply(200, a_jwt().encode(), "application/jwt", delay=60)
    proxy = make_proxy(server.url, introspection_timeout_ms=1000)
    outcomes, durations = [], []

    def call(n):
        started = time.monotonic()
        try:
            proxy.authorize(bearer_event(f"tok-{n}"))
            outcomes.append("allowed")
        except oauth_proxy.IntrospectionError:
            outcomes.append("error")
        durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["error"] * 8
    # Generous: timeout + 5 s, far from the 8 s a queue of serialised timeouts would need.
    assert max(durations) < 1.0 + 5


def test_system_trust_store_is_found_where_the_distribution_keeps_it():
    """Without INTROSPECTION_CA_FILE the system bundle is probed, so a libcurl built elsewhere (the one in
    the Lambda artifact comes from Debian) still finds Amazon Linux's /etc/pki/tls/certs/ca-bundle.crt."""
    import os

    from oauth_proxy import _core

    known = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
             "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"]
    present = [path for path in known if os.access(path, os.R_OK)]
    found = _core._system_ca_bundle()
    assert found == (present[0] if present else None)
    if found:
        with open(found, encoding="ascii", errors="replace") as bundle:
            assert "BEGIN CERTIFICATE" in bundle.read()
