"""A minimal RFC 7662 endpoint on loopback for the introspection benchmarks, run as its own process so that
it never competes with the measured process for the GIL.

POST .../keep answers on a kept-alive HTTP/1.1 connection; POST .../close answers with `Connection: close`
and closes, so the client must connect anew for every call. Every answer is 200 `application/jwt` with the
JWT read from the file named on the command line. It prints its port on stdout, then serves until stdin
closes.
"""
import asyncio
import sys


class _Introspection(asyncio.Protocol):
    def __init__(self, jwt: bytes):
        self._jwt = jwt
        self._buffer = b""
        self._transport = None

    def connection_made(self, transport):
        self._transport = transport

    def data_received(self, data):
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length:]
            request_line = head.split("\r\n", 1)[0].split(" ")
            authorized = "\r\nauthorization: basic " in head.lower()
            close = request_line[1].endswith("/close") if len(request_line) > 1 else True
            if request_line[0] != "POST" or not authorized:
                body, status = b"{}", b"400 Bad Request"
                content_type = b"application/json"
            else:
                body, status, content_type = self._jwt, b"200 OK", b"application/jwt"
            self._transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type +
                                  b"\r\nContent-Length: " + str(len(body)).encode() +
                                  (b"\r\nConnection: close" if close else b"") + b"\r\n\r\n" + body)
            if close:
                self._transport.close()
                return


async def _main(jwt_file):
    with open(jwt_file, "rb") as f:
        jwt = f.read().strip()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Introspection(jwt), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
