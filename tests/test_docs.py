"""The documentation: the site builds with --strict, the code it shows comes from files the tests run, what it
says about comparisons holds, and the README stays a short front page. (That it names exactly the settings, the
reason codes and the public names the code has: tests/test_settings.py, tests/test_reasons.py and
tests/test_library_api.py.)"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import oauth_proxy
from conftest import REPO

DOCS = REPO / "docs"
README = REPO / "README.md"
README_MAX_LINES = 200
# Included into pages as text, not as code a test runs.
# Text, not code: measured figures (written by make bench) and the hardening notes.
TEXT_INCLUDES = {"HARDENING.md", "benchmarks/RESULTS.md", "benchmarks/COOKIE_GENERATIONS.md", "benchmarks/JWT_VERIFY.md",
                 "benchmarks/SECRETS_COLD_START.md", "benchmarks/CACHE_MODEL.md"}


def includes() -> set[str]:
    found = set()
    for page in DOCS.rglob("*.md"):
        found |= set(re.findall(r'^--8<-- "([^"]+)"', page.read_text(encoding="utf-8"), re.MULTILINE))
    return found


def test_the_site_builds_strictly(tmp_path):
    """A broken link or anchor, a page left out of the nav, or a missing included file fails the build."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = (tmp_path / "site" / "own-authorizer.html").read_text(encoding="utf-8")
    # The example is included from the file the tests run, not copied.
    assert "first_path_segment" in page and "--8&lt;--" not in page


def test_included_code_is_run_by_the_tests():
    """Code the docs show is included from a file, and some test runs that file."""
    included = includes()
    assert {"examples/custom_authorizer/app.py", "examples/custom_authorizer/test_app.py",
            "examples/pytest/test_orders_auth.py", "examples/library/quickstart.py"} <= included
    tests_text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("*.py"))
    for path in included - TEXT_INCLUDES:
        assert (REPO / path).is_file(), path
        assert Path(path).name in tests_text, f"{path} is shown in the docs but no test runs it"


def test_the_quickstart_runs_as_a_script(tmp_path):
    """examples/library/quickstart.py, shown on docs/library.md, run as its readers run it."""
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "library" / "quickstart.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["allowed: alice Allow", "refused: 401 at_cookie_missing",
                                        "decrypted: a token"]


def test_readme_is_a_short_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
    commands = [line.split("#")[0].strip() for line in lines if line.startswith("make ")]
    assert commands[:2] == ["make demo", "make test"]


def test_readme_links_resolve():
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)", README.read_text(encoding="utf-8")):
        assert (REPO / target).exists(), target


def test_readme_handler_sketch_runs(monkeypatch, oauth_proxy_key):
    """The README's few lines of an authorizer of one's own are real code."""
    from oauth_proxy.testing import SpaSession, decide, make_jwt

    monkeypatch.setenv("TRUSTED_WEB_ORIGINS", "https://www.example.com")
    monkeypatch.setenv("COOKIE_NAME_PREFIX", "example")
    monkeypatch.setenv("ENCRYPTION_KEY", oauth_proxy_key)
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    handler = namespace["handler"]
    session = SpaSession(oauth_proxy_key, "example", "https://www.example.com",
                         token=make_jwt({"sub": "a", "tenant": "acme"}))
    allowed = decide(lambda event: handler(event, None), session.rest_event("GET", "/orders"))
    assert allowed.status == 200 and allowed.response["context"]["tenant"] == "acme"
    with pytest.raises(oauth_proxy.Unauthorized):
        handler(session.rest_event("GET", "/orders", at_cookie=None), None)


@pytest.mark.parametrize("origin", ["HTTPS://WWW.EXAMPLE.COM", "https://WWW.Example.com"])
def test_origins_compare_ascii_case_insensitively(spa_session, oauth_proxy_factory, origin):
    """docs/configuration.md, "How values are compared"."""
    from oauth_proxy.testing import decide

    assert decide(oauth_proxy_factory().authorize, spa_session.rest_event("GET", origin=origin)).status == 200
    assert decide(oauth_proxy_factory().authorize,
                  spa_session.rest_event("GET", origin=origin + ":443")).reason == "untrusted_origin"


def test_quoted_cookie_values_are_refused(spa_session, oauth_proxy_factory):
    """docs/configuration.md, "How values are compared": values are not unquoted."""
    from oauth_proxy.testing import decide

    event = spa_session.rest_event("GET", headers={"Cookie": f'{spa_session.at_cookie_name}="{spa_session.at_cookie}"'})
    assert decide(oauth_proxy_factory().authorize, event).reason == "at_decrypt_failed"
