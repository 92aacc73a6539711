"""A small client for the two AWS calls that fetch a secret: Secrets Manager's GetSecretValue and Parameter
Store's GetParameter (SecureString, decrypted). Standard library only: boto3 with botocore costs a cold start
far more than these two calls need (docs/secrets.md has the measurement), so requests are signed here with
Signature Version 4 (SHA-256 and HMAC) and sent in the JSON 1.1 protocol both services speak, as one HTTP/1.1
exchange on a socket of its own. Not http.client: it loads the email package, about 20 ms of a cold start,
to parse headers this client reads three of.

Credentials, region and endpoint come from the standard AWS environment, as Lambda sets it and as the SDKs
read it: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION),
and the endpoint overrides AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL (ignored
when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true); else the service's regional endpoint. An ARN names its own
region, which then wins over AWS_REGION (a secret shared from another region is called there). TLS is
verified against the system's store, or AWS_CA_BUNDLE's certificates where that is set (as for the SDKs).

Error convention: every failure is an AwsError whose ``code`` is the AWS error code of the answer
(AccessDeniedException, ResourceNotFoundException, ThrottlingException, ...) or, where AWS gave none, one
of this module's: EndpointConnectionError, Timeout, ResponseTooLarge, MalformedResponse, NoCredentials,
NoRegion, BadEndpoint. Messages say what failed and name the secret or parameter; never a value, and never
text of an answer beyond its error code.

Every import beyond time is made where it is needed: Config imports this module (through secret_refs) in
every cold start, and only a configuration with references fetches.

Each fetch opens its own connection and closes it: fetches are minutes apart, so a kept-alive connection
would only be a stale one, and a connection never outlives an answer it did not read to the end."""
from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Mapping, Optional, Tuple

# A key is 64 characters and a client secret rarely more than a few hundred; Secrets Manager's own limit
# for a secret is 64 KiB. Anything past this is not an answer this client asked for.
MAX_RESPONSE_BYTES = 128 * 1024
DEFAULT_TIMEOUT_SECONDS = 3.0

_SERVICES = {
    # service: (signing name, JSON 1.1 target prefix, endpoint override variable)
    "secretsmanager": ("secretsmanager", "secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
    "ssm": ("ssm", "AmazonSSM", "AWS_ENDPOINT_URL_SSM"),
}
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class AwsError(Exception):
    """A fetch that gave no value. ``code``: the AWS error code, or this module's category where AWS gave
    none; ``status``: the HTTP status of the answer, if there was one."""

    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status


class Credentials:
    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: Optional[str] = None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    def __repr__(self) -> str:
        return f"Credentials(access_key={self.access_key!r}, secret_key=<hidden>, token=<hidden>)"


def credentials_from_env(env: Mapping[str, str]) -> Credentials:
    access_key = (env.get("AWS_ACCESS_KEY_ID") or "").strip()
    secret_key = (env.get("AWS_SECRET_ACCESS_KEY") or "").strip()
    if not access_key or not secret_key:
        raise AwsError("NoCredentials", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them "
                                        "from the function's role)")
    token = (env.get("AWS_SESSION_TOKEN") or "").strip() or None
    return Credentials(access_key, secret_key, token)


def region_from_env(env: Mapping[str, str]) -> str:
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip()
    if not region:
        raise AwsError("NoRegion", "AWS_REGION is not set (Lambda sets it)")
    if not _is_region(region):
        raise AwsError("NoRegion", f"AWS_REGION {region[:40]!r} is not a region name")
    return region


def _is_region(text: str) -> bool:
    return 0 < len(text) <= 40 and all(c.isascii() and (c.isalnum() or c == "-") for c in text)


def arn_region(identifier: str) -> Optional[str]:
    """The region of an ARN (arn:partition:service:region:account:...), None for a plain name."""
    if not identifier.startswith("arn:"):
        return None
    parts = identifier.split(":", 5)
    if len(parts) < 6 or not _is_region(parts[3]):
        return None
    return parts[3]


def endpoint_url(service: str, region: str, env: Mapping[str, str]) -> str:
    """The URL requests for `service` go to: the SDKs' standard overrides if set, else the regional endpoint."""
    ignore = (env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or "").strip().lower() == "true"
    if not ignore:
        for name in (_SERVICES[service][2], "AWS_ENDPOINT_URL"):
            url = (env.get(name) or "").strip()
            if url:
                return url
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}"


def _sha256() -> Any:
    """The SHA-256 constructor, from CPython's own implementation where the build has it (_sha2 from 3.12,
    _sha256 before): hashlib would load and initialise OpenSSL's, some 4 ms of a cold start, for the few
    kilobytes a signature hashes."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]
        except ImportError:
            from hashlib import sha256  # a build without CPython's own hashes
    return sha256


def _sha256_hex(data: bytes) -> str:
    return str(_sha256()(data).hexdigest())


def _hmac(key: bytes, text: str) -> bytes:
    """HMAC-SHA256 (RFC 2104), on the same constructor; tests/test_aws_secrets.py holds the signatures it
    makes to botocore's."""
    sha256 = _sha256()
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in key) + text.encode("utf-8")).digest()
    return bytes(sha256(bytes(b ^ 0x5C for b in key) + inner).digest())


def sign(method: str, host: str, path: str, headers: Mapping[str, str], body: bytes, service: str, region: str,
         credentials: Credentials, now: Optional[float] = None) -> Dict[str, str]:
    """The request's headers with Signature Version 4 added (X-Amz-Date, X-Amz-Security-Token when there is a
    session token, Authorization). Every header given is signed, plus Host; `path` is already URI-encoded and
    the request has no query string (these two calls never have one)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = stamp
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
    signed_names = ";".join(names)
    canonical = "\n".join((method, path or "/", "", canonical_headers, signed_names, _sha256_hex(body)))
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(("AWS4-HMAC-SHA256", stamp, scope, _sha256_hex(canonical.encode("utf-8"))))
    key = _hmac(("AWS4" + credentials.secret_key).encode("utf-8"), stamp[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = _hmac(key, to_sign).hex()
    out = dict(headers)
    out["X-Amz-Date"] = stamp
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                            f"SignedHeaders={signed_names}, Signature={signature}")
    return out


def _error_code(status: int, header: Optional[str], body: bytes) -> str:
    """The AWS error code of a failed answer: x-amzn-ErrorType, else the body's __type (both may carry a
    namespace before '#' and a URL after ':'), else an XML error's <Code>; only a code's own characters are
    kept, so nothing else of the answer reaches a message or a log."""
    raw = header or ""
    if not raw:
        import json

        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            found = document.get("__type") or document.get("code") or document.get("Code")
            raw = found if isinstance(found, str) else ""
        elif body.startswith(b"<") and b"<Code>" in body:
            # An XML error document (what some front ends and emulators answer even to JSON requests).
            raw = body.partition(b"<Code>")[2].partition(b"</Code>")[0].decode("ascii", "replace")
    code = raw.rpartition("#")[2].partition(":")[0].strip()
    if code and len(code) <= 100 and _CODE_CHARS.issuperset(code):
        return code
    return f"HTTP{status}"


class AwsClient:
    """Fetches secrets with the credentials, region and endpoints of `env` (read at each call: an
    os.environ passed here follows changes to it)."""

    def __init__(self, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.env = env
        self.timeout = timeout

    def prepare(self) -> None:
        """Imports now what a fetch needs, so fetches started together on several threads do not wait for
        each other's imports."""
        import json  # noqa: F401
        import socket  # noqa: F401

        _sha256()

    def get_secret_value(self, secret_id: str, version_stage: Optional[str] = None) -> str:
        """The SecretString of `secret_id` (a name or ARN) at `version_stage` (AWSCURRENT when None)."""
        request: Dict[str, object] = {"SecretId": secret_id}
        if version_stage is not None:
            request["VersionStage"] = version_stage
        what = f"secret {secret_id!r}" + (f" ({version_stage})" if version_stage else "")
        answer = self._call("secretsmanager", "GetSecretValue", request, secret_id, what)
        value = answer.get("SecretString")
        if isinstance(value, str):
            return value
        if "SecretBinary" in answer:
            raise AwsError("MalformedResponse", f"{what} holds binary data (SecretBinary), not text: store the "
                                                "value as the secret's text (SecretString)")
        raise AwsError("MalformedResponse", f"the answer for {what} has no SecretString")

    def get_parameter(self, name: str) -> str:
        """The value of Parameter Store parameter `name` (a name, name:version, name:label or ARN), decrypted."""
        what = f"parameter {name!r}"
        answer = self._call("ssm", "GetParameter", {"Name": name, "WithDecryption": True}, name, what)
        parameter = answer.get("Parameter")
        value = parameter.get("Value") if isinstance(parameter, dict) else None
        if not isinstance(value, str):
            raise AwsError("MalformedResponse", f"the answer for {what} has no Parameter.Value")
        return value

    def _call(self, service: str, operation: str, request: Dict[str, object], identifier: str,
              what: str) -> Dict[str, Any]:
        import json

        signing_name, target_prefix, _ = _SERVICES[service]
        region = arn_region(identifier) or region_from_env(self.env)
        credentials = credentials_from_env(self.env)
        url = endpoint_url(service, region, self.env)
        scheme, host, port, path = _split_url(url)
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
        default_port = 443 if scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        headers = sign("POST", host_header, path, {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{target_prefix}.{operation}",
        }, body, signing_name, region, credentials)
        headers["Host"] = host_header
        status, error_type, answer = self._post(scheme, host, port, path, headers, body, what)
        if status != 200:
            code = _error_code(status, error_type, answer)
            raise AwsError(code, f"{operation} for {what} was refused (HTTP {status})", status)
        try:
            document = json.loads(answer.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise AwsError("MalformedResponse", f"the answer for {what} is not JSON", status) from None
        if not isinstance(document, dict):
            raise AwsError("MalformedResponse", f"the answer for {what} is not a JSON object", status)
        return document

    def _post(self, scheme: str, host: str, port: int, path: str, headers: Dict[str, str], body: bytes,
              what: str) -> Tuple[int, Optional[str], bytes]:
        """(status, x-amzn-ErrorType, body) of one POST on a connection of its own, within self.timeout in
        all: every wait on the socket gets only the time left, so an endpoint that trickles bytes cannot hold
        the call past the deadline (a plain socket timeout bounds each read, not their sum)."""
        import socket

        deadline = time.monotonic() + self.timeout

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            return remaining

        sock: Optional[socket.socket] = None
        try:
            try:
                sock = socket.create_connection((host, port), timeout=left())
                if scheme == "https":
                    sock = self._tls(sock, host, left())
                head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                request = (f"POST {path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\nConnection: close\r\n"
                           f"Accept-Encoding: identity\r\n\r\n").encode("utf-8") + body
                sock.settimeout(left())
                sock.sendall(request)
                return _read_response(sock, left, what)
            except (socket.timeout, TimeoutError):
                raise AwsError("Timeout", f"no answer for {what} within {self.timeout:g} s") from None
            except OSError as error:
                raise AwsError("EndpointConnectionError",
                               f"could not reach {host}:{port} for {what} ({type(error).__name__})") from None
        finally:
            if sock is not None:
                sock.close()

    def _tls(self, sock: Any, host: str, timeout: float) -> Any:
        import ssl

        bundle = (self.env.get("AWS_CA_BUNDLE") or "").strip() or None
        try:
            context = ssl.create_default_context(cafile=bundle)
        except OSError:
            raise AwsError("BadEndpoint", "AWS_CA_BUNDLE is not a readable PEM file") from None
        sock.settimeout(timeout)
        return context.wrap_socket(sock, server_hostname=host)


_MAX_HEAD = 16 * 1024


def _read_response(sock: Any, left: Callable[[], float], what: str) -> Tuple[int, Optional[str], bytes]:
    """Reads one HTTP/1.1 answer to its end (Content-Length, chunked, or until the server closes), refusing
    more than MAX_RESPONSE_BYTES of body. The caller closes the socket: nothing after the answer is read."""
    buffer = bytearray()

    def more() -> bool:
        sock.settimeout(left())
        chunk = sock.recv(65536)
        buffer.extend(chunk)
        return bool(chunk)

    def malformed(detail: str) -> AwsError:
        return AwsError("MalformedResponse", f"the answer for {what} is not HTTP ({detail})")

    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_HEAD:
            raise _too_large(what)
        if not more():
            raise malformed("it ended inside the headers")
    end = buffer.index(b"\r\n\r\n")
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[:end + 4]
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not (
            len(status_line[1]) == 3 and status_line[1].isdigit()):
        raise malformed("no status line")
    status = int(status_line[1])
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise malformed("a header line without a colon")
        fields[name.strip().lower()] = value.strip()
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = _read_chunked(buffer, more, malformed, what)
    elif "content-length" in fields:
        text = fields["content-length"]
        if not (text.isascii() and text.isdigit()):
            raise malformed("a bad Content-Length")
        length = int(text)
        if length > MAX_RESPONSE_BYTES:
            raise _too_large(what, status)
        while len(buffer) < length:
            if not more():
                raise malformed("it ended before its Content-Length")
        body = bytes(buffer[:length])
    else:
        while more():
            if len(buffer) > MAX_RESPONSE_BYTES:
                raise _too_large(what, status)
        body = bytes(buffer)
    if len(body) > MAX_RESPONSE_BYTES:
        raise _too_large(what, status)
    return status, fields.get("x-amzn-errortype"), body


def _read_chunked(buffer: bytearray, more: Callable[[], bool], malformed: Callable[[str], AwsError],
                  what: str) -> bytes:
    body = bytearray()
    while True:
        while b"\r\n" not in buffer:
            if len(buffer) > _MAX_HEAD or not more():
                raise malformed("a bad chunk")
        end = buffer.index(b"\r\n")
        size_text = bytes(buffer[:end]).split(b";")[0].strip()
        del buffer[:end + 2]
        try:
            size = int(size_text, 16)
        except ValueError:
            raise malformed("a bad chunk size") from None
        if size < 0 or len(body) + size > MAX_RESPONSE_BYTES:
            raise _too_large(what)
        while len(buffer) < size + 2:
            if not more():
                raise malformed("it ended inside a chunk")
        if size == 0:
            return bytes(body)  # trailers, if any, are left unread: the connection is closed next
        body.extend(buffer[:size])
        del buffer[:size + 2]


def _too_large(what: str, status: Optional[int] = None) -> AwsError:
    return AwsError("ResponseTooLarge", f"the answer for {what} is over {MAX_RESPONSE_BYTES} bytes", status)


def _split_url(url: str) -> Tuple[str, str, int, str]:
    """(scheme, host, port, path) of an endpoint URL: http(s)://host[:port][/path], host a name, an IPv4
    address or a bracketed IPv6 address."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    authority, slash, path = rest.partition("/")
    host, port_text = authority, ""
    if authority.startswith("["):
        host, _, after = authority[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else after
    elif ":" in authority:
        host, _, port_text = authority.partition(":")
    ok = (sep and scheme in ("http", "https") and host and "?" not in rest and "#" not in rest and "@" not in authority
          and (not port_text or (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536))
          and all(c.isascii() and (c.isalnum() or c in ".-:_") for c in host))
    if not ok:
        raise AwsError("BadEndpoint", f"the endpoint URL must be http(s)://host[:port][/path], not {url[:100]!r}")
    port = int(port_text) if port_text else (443 if scheme == "https" else 80)
    return scheme, host, port, "/" + path
