"""Small raw-HTTP and SigV4 helpers for the integration suite.

Everything here is written for the tests: an AWS Signature V4 signer (header
and query-string flavours, plus the STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk
signer) and an HTTP/1.1 response reader that works on a plain socket, so that
keep-alive, pipelining, 100-continue and malformed input can be exercised
byte by byte.
"""

import datetime
import hashlib
import hmac
import socket
import struct
import time
import urllib.parse
import xml.etree.ElementTree as ET

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
REGION = "us-east-1"


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _quote(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def object_path(bucket, key=None):
    """Path-style request path for bucket/key, URI-encoded the S3 way."""
    if key is None:
        return "/" + bucket
    return "/" + bucket + "/" + _quote(key, safe="-_.~/")


def _canonical_query(query):
    pairs = sorted((_quote(k), _quote(v)) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


class Signer:
    def __init__(self, access_key, secret_key, region=REGION):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region

    def _key(self, datestamp):
        k = _hmac(("AWS4" + self.secret_key).encode(), datestamp)
        k = _hmac(k, self.region)
        k = _hmac(k, "s3")
        return _hmac(k, "aws4_request")

    def _scope(self, datestamp):
        return f"{datestamp}/{self.region}/s3/aws4_request"

    def _signature(self, amzdate, canonical_request):
        datestamp = amzdate[:8]
        sts = "\n".join([
            "AWS4-HMAC-SHA256", amzdate, self._scope(datestamp),
            sha256_hex(canonical_request.encode()),
        ])
        return hmac.new(self._key(datestamp), sts.encode(), hashlib.sha256).hexdigest()

    def sign(self, method, host, path, query=(), headers=None,
             payload_hash=UNSIGNED, now=None):
        """Return (headers dict, signature).

        Every header passed in `headers` is signed; `host`, `x-amz-date` and
        `x-amz-content-sha256` are added. Add unsigned headers afterwards.
        """
        now = now or datetime.datetime.now(datetime.timezone.utc)
        amzdate = now.strftime("%Y%m%dT%H%M%SZ")
        hdrs = {k.lower(): str(v).strip() for k, v in (headers or {}).items()}
        hdrs["host"] = host
        hdrs["x-amz-date"] = amzdate
        hdrs["x-amz-content-sha256"] = payload_hash
        names = sorted(hdrs)
        canonical = "\n".join([
            method, path, _canonical_query(query),
            "".join(f"{n}:{hdrs[n]}\n" for n in names),
            ";".join(names), payload_hash,
        ])
        sig = self._signature(amzdate, canonical)
        hdrs["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self._scope(amzdate[:8])}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}")
        return hdrs, sig

    def presign(self, method, host, path, expires=300, now=None):
        """Query-string-signed target (path?query) with SignedHeaders=host."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        amzdate = now.strftime("%Y%m%dT%H%M%SZ")
        query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", f"{self.access_key}/{self._scope(amzdate[:8])}"),
            ("X-Amz-Date", amzdate),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        canonical = "\n".join([
            method, path, _canonical_query(query), f"host:{host}\n", "host", UNSIGNED,
        ])
        sig = self._signature(amzdate, canonical)
        query.append(("X-Amz-Signature", sig))
        return path + "?" + _canonical_query(query)

    def aws_chunked_body(self, amzdate, seed_signature, data, chunk_size):
        """Encode `data` as a signed aws-chunked body (chunk signatures chained
        from the seed signature of the request headers)."""
        datestamp = amzdate[:8]
        key = self._key(datestamp)
        prev = seed_signature
        out = []
        chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
        chunks.append(b"")
        for chunk in chunks:
            sts = "\n".join([
                "AWS4-HMAC-SHA256-PAYLOAD", amzdate, self._scope(datestamp), prev,
                EMPTY_SHA256, sha256_hex(chunk),
            ])
            prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
            out.append(f"{len(chunk):x};chunk-signature={prev}\r\n".encode() + chunk + b"\r\n")
        return b"".join(out)


def build_request(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = {}
        for k, v in headers:
            self.headers[k.lower()] = v
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def error_code(self):
        return error_code(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {self.headers} body={self.body[:300]!r}>"


def error_code(body):
    """The <Code> of an S3 XML error document (None if the body is not one)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag.split("}")[-1] != "Error":
        return None
    for child in root:
        if child.tag.split("}")[-1] == "Code":
            return child.text
    return None


class ConnectionClosed(Exception):
    pass


def _readline(f):
    line = f.readline(1 << 20)
    if not line:
        raise ConnectionClosed("connection closed before a full response")
    return line


def read_response(f, method="GET"):
    """Read one HTTP/1.1 response (1xx included) from a binary file object."""
    status_line = _readline(f).decode("latin-1").rstrip("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"bad status line {status_line!r}")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    while True:
        line = _readline(f).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    hmap = {k.lower(): v for k, v in headers}
    body = b""
    if status < 200 or status in (204, 304) or method == "HEAD":
        return Response(status, reason, headers, body)
    if "chunked" in hmap.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int(_readline(f).split(b";")[0].strip(), 16)
            if size == 0:
                while _readline(f) not in (b"\r\n", b"\n"):
                    pass
                break
            parts.append(f.read(size))
            f.read(2)
        body = b"".join(parts)
    elif "content-length" in hmap:
        n = int(hmap["content-length"])
        body = f.read(n)
        if len(body) != n:
            raise ConnectionClosed(f"body truncated: {len(body)} of {n} bytes")
    else:
        body = f.read()
    return Response(status, reason, headers, body)


class RawConn:
    """A TCP connection with a buffered reader on top; over TLS when given an
    ssl.SSLContext (the handshake is done here, verifying @host)."""

    def __init__(self, host, port, timeout=30, source_port=None, tls=None):
        source = ("", source_port) if source_port else None
        self.sock = socket.create_connection((host, port), timeout=timeout, source_address=source)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.rfile = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def response(self, method="GET"):
        return read_response(self.rfile, method)

    def local_addr(self):
        return self.sock.getsockname()

    def half_close(self):
        """Send FIN, keep reading. Over TLS too: the plain socket's shutdown
        (SSLSocket.shutdown would drop the TLS state and read ciphertext)."""
        socket.socket.shutdown(self.sock, socket.SHUT_WR)

    def reset(self):
        """Close with RST (SO_LINGER 0): the local port is free again at once."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def wait_closed(self, timeout):
        """Seconds until the peer closed (EOF or reset), or None on timeout.
        Any bytes received meanwhile are returned too: (elapsed, data)."""
        start = time.monotonic()
        data = b""
        self.sock.settimeout(0.2)
        while time.monotonic() - start < timeout:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start, data
            if not chunk:
                return time.monotonic() - start, data
            data += chunk
        return None, data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
