"""The distribution for people who build their own authorizer on oauth_proxy: the layer zip,
the wheel and the sdist that scripts/build_artifact writes for each architecture.

The layer is unpacked into an empty /opt-like folder and put on the path as Lambda does (<opt>/python),
next to a second layer holding aws-lambda-powertools (AWS publishes it as a public layer; here
`pip install --target`) and a function folder holding only the custom-authorizer example. A clean
interpreter (-I -S) of each Python on the machine, and the arm64 CPython under qemu-user for the arm64
layer, runs the example's handler. The wheel installed with `pip install --no-index --target` does the
same, and a wheel built from the sdist works too."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import oauth_proxy

from .deploy_helpers import (ARCHES, MACHINE, NATIVE_ARCH, ORIGIN, PREFIX, ROOT, make_jwt,
                             one_python_per_arch, pythons, run_child)

PYTHONS = pythons()
ONE_PYTHON = one_python_per_arch()
EXAMPLE = ROOT / "examples" / "custom_authorizer" / "app.py"
TENANT = "acme"
ARN_PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234"

def pip(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="session")
def powertools_layer(tmp_path_factory) -> Path:
    """A second layer, as AWS publishes Powertools: its python/ folder from pip (pure Python, so one
    folder serves both architectures)."""
    opt = tmp_path_factory.mktemp("opt-powertools")
    pip("install", "--quiet", "--target", str(opt / "python"), "aws-lambda-powertools")
    return opt


@pytest.fixture(scope="session")
def function_dir(tmp_path_factory) -> Path:
    """A function folder holding only the custom-authorizer example."""
    task = tmp_path_factory.mktemp("function")
    (task / "app.py").write_bytes(EXAMPLE.read_bytes())
    return task


def rest_event(method: str, cookies: dict[str, str], headers: dict[str, str] | None = None,
               tenant: str = TENANT) -> dict:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    path = f"/{tenant}/orders"
    return {"type": "REQUEST", "methodArn": f"{ARN_PREFIX}/prod/{method}{path}",
            "resource": path, "path": path, "httpMethod": method,
            "headers": {"Origin": ORIGIN, **({"Cookie": cookie} if cookie else {}), **(headers or {})},
            "multiValueHeaders": None, "queryStringParameters": None, "pathParameters": None,
            "stageVariables": None,
            "requestContext": {"httpMethod": method, "path": f"/prod{path}", "resourcePath": path,
                               "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                               "accountId": "123456789012", "apiId": "abcdef1234",
                               "identity": {"sourceIp": "127.0.0.1"}}}


def assert_example_answers(python: list[str], machine: str, path: list[Path],
                           origins: dict[str, Path], key_hex: str) -> None:
    """allow / 401 / 403 (no CSRF header; another tenant's path) from the example's handler,
    loaded from `path` only."""
    token = make_jwt({"sub": "alice", "scope": "openid orders", "tenant": TENANT, "exp": 4102444800})
    at = oauth_proxy.encrypt_cookie(token, key_hex)
    csrf = oauth_proxy.encrypt_cookie("csrf-value-1", key_hex)
    events = [
        rest_event("GET", {f"{PREFIX}-at": at}),
        rest_event("GET", {"other": "1"}),
        rest_event("POST", {f"{PREFIX}-at": at, f"{PREFIX}-csrf": csrf}),
        rest_event("GET", {f"{PREFIX}-at": at}, tenant="other"),
    ]
    env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": key_hex}
    out = run_child(python, path, origins, "app.handler", events, env)
    assert out["machine"] == machine
    allow, missing, no_csrf_header, other_tenant = out["results"]

    assert allow["ok"]["principalId"] == "alice", allow
    assert allow["ok"]["context"] == {"token": f"Bearer {token}", "tenant": TENANT}
    (stmt,) = allow["ok"]["policyDocument"]["Statement"]
    assert stmt["Effect"] == "Allow"
    assert missing == {"error": "Unauthorized", "message": "Unauthorized"}
    for denied in (no_csrf_header, other_tenant):
        (stmt,) = denied["ok"]["policyDocument"]["Statement"]
        assert stmt["Effect"] == "Deny"
        assert token not in json.dumps(denied)


@pytest.mark.parametrize("arch", ARCHES)
def test_layer_holds_the_package_and_nothing_else(dist, arch):
    names = zipfile.ZipFile(dist.layer_zip(arch)).namelist()
    outside = [n for n in names if not n.startswith(("python/oauth_proxy/", "python/oauth_proxy_authorizer.libs/"))]
    assert not outside, outside
    assert "python/oauth_proxy/_core.abi3.so" in names
    assert "python/oauth_proxy_authorizer.libs/libcurl.so.4" in names
    assert any(n.startswith("python/oauth_proxy_authorizer.libs/libcrypto-") for n in names), names
    # The same package as the function zip, less handler.py.
    function = zipfile.ZipFile(dist.function_zip(arch)).namelist()
    assert sorted("python/" + n for n in function if n != "handler.py") == sorted(names)


@pytest.mark.parametrize("arch", ARCHES)
def test_wheel_is_tagged_complete_and_recorded(dist, arch):
    wheel = dist.wheel(arch)
    assert wheel.name == f"oauth_proxy_authorizer-0.1.0-cp310-abi3-manylinux_2_34_{MACHINE[arch]}.whl"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        # The library only: installed into a function folder it must not replace the user's handler.
        assert "handler.py" not in names
        package = sorted(n for n in names if ".dist-info/" not in n)
        layer = zipfile.ZipFile(dist.layer_zip(arch)).namelist()
        assert package == sorted(n.removeprefix("python/") for n in layer)
        (record,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        rows = [line.split(",") for line in z.read(record).decode().splitlines()]
        assert sorted(row[0] for row in rows) == sorted(names)
        for name, digest, size in rows:
            if name == record:
                continue
            data = z.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, size) == (f"sha256={expected}", str(len(data))), name
        wheel_meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        assert f"Tag: cp310-abi3-manylinux_2_34_{MACHINE[arch]}" in wheel_meta


@pytest.mark.parametrize(("arch", "version", "python"), PYTHONS,
                         ids=[f"{arch}-{version}" for arch, version, _ in PYTHONS])
def test_layer_with_the_example_function(dist, powertools_layer, function_dir, key_hex,
                                         arch, version, python):
    opt = dist.layer_dir(arch)
    # Lambda's order: the function, then each layer's python/ folder.
    path = [function_dir, opt / "python", powertools_layer / "python"]
    origins = {"app": function_dir, "oauth_proxy": opt / "python",
               "oauth_proxy._core": opt / "python",
               "aws_lambda_powertools": powertools_layer / "python"}
    assert_example_answers(python, MACHINE[arch], path, origins, key_hex)


@pytest.mark.parametrize("arch", ARCHES)
def test_wheel_installed_with_pip_target(dist, powertools_layer, function_dir, key_hex, arch,
                                         tmp_path):
    # What a user packaging for Lambda runs: a wheel for the function's architecture, whatever this
    # machine's is.
    target = tmp_path / "package"
    pip("install", "--no-index", "--target", str(target), "--only-binary=:all:",
        "--platform", f"manylinux_2_34_{MACHINE[arch]}", "--implementation", "cp",
        "--python-version", "3.12", str(dist.wheel(arch)))
    assert not (target / "handler.py").exists()
    assert (target / "oauth_proxy_authorizer.libs" / "libcurl.so.4").exists()
    path = [function_dir, target, powertools_layer / "python"]
    origins = {"app": function_dir, "oauth_proxy": target, "oauth_proxy._core": target}
    assert_example_answers(ONE_PYTHON[arch], MACHINE[arch], path, origins, key_hex)


def test_sdist_holds_what_a_build_needs(dist):
    with tarfile.open(dist.sdist(NATIVE_ARCH)) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "csrc").glob("*/*.[ch]")}
    package = {str(p.relative_to(ROOT)) for p in (ROOT / "src" / "oauth_proxy").glob("*.py*")}
    for needed in sources | package | {"setup.py", "pyproject.toml", "PKG-INFO"}:
        assert needed in names, needed


def test_sdist_carries_the_readme_once_and_no_tests(dist):
    """The README is the package's long description: PKG-INFO holds it, and nothing else does (no README.md,
    no egg-info copy of PKG-INFO). The tests need the repository (conftest, vectors), so they stay out."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    marker = "## Use it in your own authorizer"  # a line that nothing but the README holds
    assert marker in readme
    with tarfile.open(dist.sdist(NATIVE_ARCH)) as t:
        holding = [m.name.split("/", 1)[1] for m in t.getmembers()
                   if m.isfile() and marker.encode() in t.extractfile(m).read()]
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert holding == ["PKG-INFO"]
    assert not any(name.startswith("tests/") for name in names)


def test_wheel_built_from_the_sdist_works(dist, key_hex, tmp_path):
    wheels = tmp_path / "wheels"
    pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels),
        str(dist.sdist(NATIVE_ARCH)))
    (wheel,) = wheels.glob("oauth_proxy_authorizer-*.whl")
    target = tmp_path / "target"
    pip("install", "--no-index", "--no-deps", "--target", str(target), str(wheel))
    # The library only: a top-level handler module would collide with the handler.py of whoever installs it.
    assert not (target / "handler.py").exists()
    function = tmp_path / "function"
    function.mkdir()
    shutil.copy(ROOT / "handler.py", function)
    token = make_jwt({"sub": "dave", "exp": 4102444800})
    at = oauth_proxy.encrypt_cookie(token, key_hex)
    env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": key_hex}
    out = run_child([sys.executable], [function, target], {"handler": function, "oauth_proxy._core": target},
                    "handler.handler", [rest_event("GET", {f"{PREFIX}-at": at})], env)
    (allow,) = out["results"]
    assert allow["ok"]["context"] == {"token": f"Bearer {token}"}
    # The long description came from the sdist's PKG-INFO (the sdist has no README.md).
    metadata = next(target.glob("oauth_proxy_authorizer-*.dist-info")) / "METADATA"
    assert (ROOT / "README.md").read_text(encoding="utf-8").strip() in metadata.read_text(encoding="utf-8")
