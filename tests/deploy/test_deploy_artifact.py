"""The Lambda zip of each architecture, unpacked into an empty folder and imported by a fresh
interpreter with nothing else on its path, answers through handler.handler. The arm64 zip, cross-built
on x86_64, runs under qemu-user with Debian's arm64 CPython (tests/deploy/deploy_helpers.pythons)."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

import oauth_proxy

from .deploy_helpers import (ARCHES, MACHINE, NATIVE_ARCH, ORIGIN, PREFIX, make_jwt, one_python_per_arch, pythons,
                             run_child)

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/api/items"

PYTHONS = pythons()
ONE_PYTHON = one_python_per_arch()


def rest_event(method: str, cookies: dict[str, str], headers: dict[str, str] | None = None
               ) -> dict:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    all_headers = {"Origin": ORIGIN, **({"Cookie": cookie} if cookie else {}),
                   **(headers or {})}
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "httpMethod": method,
            "headers": all_headers, "multiValueHeaders": None,
            "requestContext": {"httpMethod": method}}


def run_function(python: list[str], task: Path, events: list[dict], env: dict[str, str]) -> dict:
    # Only the unpacked zip on the path, as /var/task is on Lambda; handler, the package and its
    # extension must all come from there.
    return run_child(python, [task], {"handler": task, "oauth_proxy": task,
                                      "oauth_proxy._core": task},
                     "handler.handler", events, env)


def config_env(key_hex: str, **extra: str) -> dict[str, str]:
    return {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
            "ENCRYPTION_KEY": key_hex, **extra}


@pytest.mark.parametrize("arch", ARCHES)
def test_zip_layout(dist, arch):
    names = zipfile.ZipFile(dist.function_zip(arch)).namelist()
    assert "handler.py" in names
    assert "oauth_proxy/__init__.py" in names
    core = [n for n in names if n.startswith("oauth_proxy/_core") and n.endswith(".so")]
    # One abi3 build serves every Python from 3.10 (Lambda: 3.12, 3.13, ...).
    assert core == ["oauth_proxy/_core.abi3.so"], core
    libs = [n for n in names if n.startswith("oauth_proxy_authorizer.libs/")]
    assert any(n.startswith("oauth_proxy_authorizer.libs/libcrypto-") for n in libs), libs
    assert "oauth_proxy_authorizer.libs/libcurl.so.4" in libs
    assert not [n for n in names if ".dist-info/" in n or "__pycache__" in n]


def elf_facts(path: Path) -> tuple[str, tuple[int, int]]:
    """The ELF file's machine and the newest GLIBC_x.y version it asks for."""
    from elftools.elf.elffile import ELFFile

    with path.open("rb") as f:
        elf = ELFFile(f)
        section = elf.get_section_by_name(".gnu.version_r")
        versions = [tuple(map(int, aux.name[len("GLIBC_"):].split(".")))
                    for _, auxiliaries in (section.iter_versions() if section else ())
                    for aux in auxiliaries if aux.name.startswith("GLIBC_2.")]
        return elf["e_machine"], max(versions, default=(0, 0))


@pytest.mark.parametrize("arch", ARCHES)
def test_every_arch_has_the_same_layout_and_glibc_ceiling(dist, arch):
    """The arm64 zip is built for aarch64 throughout (cross-built on x86_64), holds the same files
    as this machine's one (bundled libraries differ only in their content hashes), and needs no
    glibc newer than Amazon Linux 2023's 2.34."""
    def layout(zip_path: Path) -> list[str]:
        return sorted(re.sub(r"-[0-9a-f]{8}(\.so)", r"-HASH\1", n)
                      for n in zipfile.ZipFile(zip_path).namelist())
    assert layout(dist.function_zip(arch)) == layout(dist.function_zip(NATIVE_ARCH))
    task = dist.function_dir(arch)
    elves = [p for p in task.rglob("*") if p.is_file() and (p.suffix == ".so" or ".so." in p.name)]
    assert len(elves) > 10, elves
    machine = {"x86_64": "EM_X86_64", "arm64": "EM_AARCH64"}[arch]
    for path in elves:
        e_machine, glibc = elf_facts(path)
        assert e_machine == machine, (path, e_machine)
        assert glibc <= (2, 34), (path, glibc)


@pytest.mark.parametrize(("arch", "version", "python"), PYTHONS,
                         ids=[f"{arch}-{version}" for arch, version, _ in PYTHONS])
def test_fresh_interpreter_allows_and_rejects(dist, key_hex, arch, version, python):
    unpacked = dist.function_dir(arch)
    token = make_jwt({"sub": "alice", "scope": "openid read", "exp": 4102444800})
    at = oauth_proxy.encrypt_cookie(token, key_hex)
    csrf_plain = "csrf-value-1"
    csrf = oauth_proxy.encrypt_cookie(csrf_plain, key_hex)
    events = [
        rest_event("GET", {f"{PREFIX}-at": at}),
        rest_event("GET", {"other": "1"}),
        rest_event("GET", {f"{PREFIX}-at": at[:-4] + "AAAA"}),
        rest_event("POST", {f"{PREFIX}-at": at, f"{PREFIX}-csrf": csrf}),
        rest_event("POST", {f"{PREFIX}-at": at, f"{PREFIX}-csrf": csrf},
                   {f"x-{PREFIX}-csrf": csrf_plain}),
    ]
    out = run_function(python, unpacked, events, config_env(key_hex))
    assert out["machine"] == MACHINE[arch]
    if version != "emulated":
        assert out["version"] == list(map(int, version.split(".")))
    allow, missing, tampered, no_csrf_header, post_ok = out["results"]

    assert allow["ok"]["principalId"] == "alice"
    assert allow["ok"]["context"] == {"token": f"Bearer {token}"}
    (stmt,) = allow["ok"]["policyDocument"]["Statement"]
    assert stmt["Effect"] == "Allow"
    assert stmt["Resource"] == "/".join(METHOD_ARN.split("/")[:2]) + "/*"

    for rejected in (missing, tampered):
        assert rejected == {"error": "Unauthorized", "message": "Unauthorized"}

    (stmt,) = no_csrf_header["ok"]["policyDocument"]["Statement"]
    assert stmt["Effect"] == "Deny"
    assert token not in json.dumps(no_csrf_header)

    assert post_ok["ok"]["context"] == {"token": f"Bearer {token}"}
    # The extension uses the libcrypto bundled beside it; cookie mode never
    # loads libcurl (a phantom-token-only dependency).
    assert any(lib.startswith(f"{unpacked}/oauth_proxy_authorizer.libs/libcrypto-")
               for lib in out["libs"]), out["libs"]
    assert not [lib for lib in out["libs"] if "libcurl" in lib]


def http_api_event(method: str, cookies: dict[str, str], headers: dict[str, str] | None = None
                   ) -> dict:
    # HTTP API, payload 2.0: lower-case headers, cookies in their own list.
    return {"version": "2.0", "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/GET/api/x",
            "headers": {"origin": ORIGIN, **(headers or {})},
            "cookies": [f"{k}={v}" for k, v in cookies.items()],
            "requestContext": {"http": {"method": method, "path": "/api/x"}}}


@pytest.mark.parametrize("arch", ARCHES)
def test_fresh_interpreter_http_api_simple_responses(dist, key_hex, arch):
    unpacked = dist.function_dir(arch)
    token = make_jwt({"sub": "carol", "exp": 4102444800})
    at = oauth_proxy.encrypt_cookie(token, key_hex)
    csrf = oauth_proxy.encrypt_cookie("csrf-2", key_hex)
    events = [
        http_api_event("GET", {f"{PREFIX}-at": at}),
        http_api_event("GET", {f"{PREFIX}-at": "bm90LWEtY29va2ll"}),
        http_api_event("PUT", {f"{PREFIX}-at": at, f"{PREFIX}-csrf": csrf}),
    ]
    out = run_function(ONE_PYTHON[arch], unpacked, events,
                       config_env(key_hex, HTTP_API_RESPONSE_FORMAT="simple"))
    allow, bad, no_csrf_header = out["results"]
    assert allow["ok"] == {"isAuthorized": True, "context": {"token": f"Bearer {token}"}}
    assert bad == {"error": "Unauthorized", "message": "Unauthorized"}
    assert no_csrf_header["ok"] == {"isAuthorized": False}


class _Introspection(http.server.BaseHTTPRequestHandler):
    jwt = ""
    calls: list

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        self.calls.append("HEAD")
        self.send_response(204)
        self.end_headers()

    def do_POST(self):  # noqa: N802
        self.calls.append("POST")
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = self.jwt.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/jwt")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def introspection():
    handler = type("H", (_Introspection,),
                   {"jwt": make_jwt({"sub": "bob", "exp": 4102444800}), "calls": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


# Loads the bundled libcurl by path (as the extension's RPATH finds it) and
# makes one request with it: every grafted dependency resolves, under its
# hashed name, from the bundle.
CURL_CHILD = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.curl_version.restype = ctypes.c_char_p
lib.curl_easy_init.restype = ctypes.c_void_p
h = ctypes.c_void_p(lib.curl_easy_init())
assert h.value
CURLOPT_URL, CURLOPT_NOBODY, CURLINFO_RESPONSE_CODE = 10002, 44, 0x200002
lib.curl_easy_setopt(h, CURLOPT_URL, sys.argv[2].encode())
lib.curl_easy_setopt(h, CURLOPT_NOBODY, ctypes.c_long(1))
if len(sys.argv) > 3:
    CURLOPT_CAINFO = 10065
    lib.curl_easy_setopt(h, CURLOPT_CAINFO, sys.argv[3].encode())
rc = lib.curl_easy_perform(h)
status = ctypes.c_long()
lib.curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ctypes.byref(status))
maps = open("/proc/self/maps").read().splitlines()
libs = sorted({l.split()[-1] for l in maps if ".so" in l.split()[-1]})
print(json.dumps({"version": lib.curl_version().decode(), "rc": rc,
                  "status": status.value, "libs": libs}))
"""


def run_curl_child(python: list[str], curl: Path, url: str, *extra: str) -> dict:
    proc = subprocess.run([*python, "-I", "-S", "-c", CURL_CHILD, str(curl), url, *extra],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("arch", ARCHES)
def test_bundled_libcurl_works_from_the_bundle(dist, introspection, arch):
    server, handler = introspection
    unpacked = dist.function_dir(arch)
    curl = unpacked / "oauth_proxy_authorizer.libs" / "libcurl.so.4"
    out = run_curl_child(ONE_PYTHON[arch], curl, f"http://127.0.0.1:{server.server_port}/")
    assert out["version"].startswith("libcurl/"), out
    assert (out["rc"], out["status"]) == (0, 204), out
    assert handler.calls == ["HEAD"]
    bundle = f"{unpacked}/oauth_proxy_authorizer.libs/"
    loaded = [lib for lib in out["libs"] if lib.startswith(bundle)]
    # libcurl's own dependencies came from the bundle, not from this system.
    for name in ("libcurl.so.4", "libnghttp2-", "libssl-", "libcrypto-"):
        assert any(lib.startswith(bundle + name) for lib in loaded), (name, loaded)
    assert not [lib for lib in out["libs"] if "/libnghttp2.so" in lib], out["libs"]


@pytest.fixture
def tls_server(tmp_path):
    """A loopback HTTPS server with a throwaway self-signed certificate."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oauth-proxy test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = tmp_path / "cert.pem"
    key_pem = tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    handler = type("H", (_Introspection,), {"jwt": "", "calls": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_pem, key_pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler, cert_pem
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("arch", ARCHES)
def test_bundled_libcurl_verifies_tls_with_the_bundled_openssl(dist, tls_server, arch):
    server, handler, ca = tls_server
    unpacked = dist.function_dir(arch)
    curl = unpacked / "oauth_proxy_authorizer.libs" / "libcurl.so.4"
    url = f"https://127.0.0.1:{server.server_port}/"
    trusted = run_curl_child(ONE_PYTHON[arch], curl, url, str(ca))
    assert (trusted["rc"], trusted["status"]) == (0, 204), trusted
    assert handler.calls == ["HEAD"]
    # Without that CA the certificate is refused: verification is on.
    untrusted = run_curl_child(ONE_PYTHON[arch], curl, url, "/dev/null")
    assert untrusted["rc"] != 0 and untrusted["status"] == 0, untrusted
    assert handler.calls == ["HEAD"]


@pytest.mark.parametrize("arch", ARCHES)
def test_phantom_token_uses_the_bundled_libcurl(dist, key_hex, introspection, arch):
    server, handler = introspection
    unpacked = dist.function_dir(arch)
    at = oauth_proxy.encrypt_cookie("opaque-access-token-0001", key_hex)
    env = config_env(key_hex, USE_PHANTOM_TOKEN="true",
                     INTROSPECTION_URL=f"http://127.0.0.1:{server.server_port}/introspect",
                     CLIENT_ID="gateway", CLIENT_SECRET="not-a-real-secret",
                     INTROSPECTION_TIMEOUT_MS="5000")
    out = run_function(ONE_PYTHON[arch], unpacked, [rest_event("GET", {f"{PREFIX}-at": at})], env)
    (result,) = out["results"]
    assert "ok" in result, result
    assert handler.calls == ["POST"]
    assert result["ok"]["context"] == {"token": f"Bearer {handler.jwt}"}
    assert result["ok"]["principalId"] == "bob"
    curl = [lib for lib in out["libs"] if "libcurl" in lib]
    assert curl == [str(unpacked / "oauth_proxy_authorizer.libs" / "libcurl.so.4")], out["libs"]
