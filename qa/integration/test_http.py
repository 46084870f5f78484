"""HTTP/1.1 mechanics on raw sockets: keep-alive, pipelining, chunked and
aws-chunked uploads, Expect: 100-continue."""

import datetime
import os
import socket

import pytest

import xohttp

KiB, MiB = 1024, 1024 * 1024


def signed(signer, target, method, path, body=b"", headers=None, query=()):
    h = dict(headers or {})
    hdrs, _ = signer.sign(method, target.hostport, path, query=query, headers=h,
                          payload_hash=xohttp.sha256_hex(body))
    if body or method in ("PUT", "POST"):
        hdrs["content-length"] = str(len(body))
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query)
    return xohttp.build_request(method, path, hdrs, body)


def get_object(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_keep_alive(target, signer, s3, bucket):
    """Several requests of different kinds on one connection."""
    payloads = {f"ka{i}": os.urandom(1000 * (i + 1)) for i in range(3)}
    with target.conn() as c:
        local = c.local_addr()
        for k, v in payloads.items():
            c.send(signed(signer, target, "PUT", xohttp.object_path(bucket, k), v))
            r = c.response("PUT")
            assert r.status == 200, r
            assert r.header("connection", "").lower() != "close"
        for k, v in payloads.items():
            c.send(signed(signer, target, "GET", xohttp.object_path(bucket, k)))
            r = c.response()
            assert r.status == 200 and r.body == v
        c.send(signed(signer, target, "HEAD", xohttp.object_path(bucket, "ka1")))
        assert c.response("HEAD").header("content-length") == "2000"
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "nope")))
        r = c.response()
        assert r.status == 404 and r.error_code() == "NoSuchKey"
        # an error response does not end the connection either
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket), query=[("list-type", "2")]))
        r = c.response()
        assert r.status == 200 and all(k.encode() in r.body for k in payloads)
        c.send(signed(signer, target, "DELETE", xohttp.object_path(bucket, "ka0")))
        assert c.response("DELETE").status == 204
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "ka2")))
        r = c.response()
        assert r.status == 200 and r.body == payloads["ka2"]
        assert c.local_addr() == local  # one socket throughout


def test_pipelined_gets(target, signer, s3, bucket):
    """Two (then five) requests written at once come back as responses in order."""
    objs = {f"p{i}": os.urandom(10 * KiB * (i + 1) + i) for i in range(5)}
    for k, v in objs.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    with target.conn() as c:
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "p0"))
               + signed(signer, target, "GET", xohttp.object_path(bucket, "p1")))
        r0, r1 = c.response(), c.response()
        assert (r0.status, r1.status) == (200, 200)
        assert r0.body == objs["p0"] and r1.body == objs["p1"]

        batch = b"".join(signed(signer, target, "GET", xohttp.object_path(bucket, k)) for k in objs)
        c.send(batch)
        for k, v in objs.items():
            r = c.response()
            assert r.status == 200 and r.body == v, k


def test_pipelined_mixed(target, signer, s3, bucket):
    """PUT with a body, HEAD, a 404 and a GET pipelined in one write."""
    body = os.urandom(300 * KiB)
    reqs = [
        ("PUT", signed(signer, target, "PUT", xohttp.object_path(bucket, "m"), body)),
        ("HEAD", signed(signer, target, "HEAD", xohttp.object_path(bucket, "m"))),
        ("GET", signed(signer, target, "GET", xohttp.object_path(bucket, "missing"))),
        ("GET", signed(signer, target, "GET", xohttp.object_path(bucket, "m"))),
    ]
    with target.conn() as c:
        c.send(b"".join(r for _, r in reqs))
        got = [c.response(m) for m, _ in reqs]
    assert [r.status for r in got] == [200, 200, 404, 200]
    assert got[1].header("content-length") == str(len(body))
    assert got[2].error_code() == "NoSuchKey"
    assert got[3].body == body


def chunked(data, size):
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


def check_chunked_answer(r, s3, bucket, key, data):
    """radosgw 16.2's beast frontend refuses a chunked PUT without a length
    (411 MissingContentLength, even with x-amz-decoded-content-length); a
    server that accepts it must store exactly the de-chunked bytes."""
    if r.status == 411:
        assert r.error_code() == "MissingContentLength", r
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)
    else:
        assert r.status == 200, r
        assert get_object(s3, bucket, key) == data


def test_chunked_put_unsigned_payload(target, signer, s3, bucket):
    data = os.urandom(MiB + 12345)
    path = xohttp.object_path(bucket, "chunked-unsigned")
    hdrs, _ = signer.sign("PUT", target.hostport, path, payload_hash=xohttp.UNSIGNED)
    hdrs["transfer-encoding"] = "chunked"
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", path, hdrs, chunked(data, 64 * KiB + 3)))
        r = c.response("PUT")
        check_chunked_answer(r, s3, bucket, "chunked-unsigned", data)
        # The whole chunked body was consumed: the connection carries on.
        c.send(signed(signer, target, "PUT", xohttp.object_path(bucket, "after-chunked"), b"next"))
        assert c.response("PUT").status == 200
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "after-chunked")))
        r = c.response()
        assert r.status == 200 and r.body == b"next"


def test_chunked_put_with_decoded_length(target, signer, s3, bucket):
    data = os.urandom(100 * KiB + 3)
    path = xohttp.object_path(bucket, "chunked-declen")
    hdrs, _ = signer.sign("PUT", target.hostport, path, payload_hash=xohttp.UNSIGNED,
                          headers={"x-amz-decoded-content-length": str(len(data))})
    hdrs["transfer-encoding"] = "chunked"
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", path, hdrs, chunked(data, 4096)))
        r = c.response("PUT")
        check_chunked_answer(r, s3, bucket, "chunked-declen", data)
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "chunked-declen")))
        assert c.response().status in (200, 404)


def test_chunked_put_presigned(target, signer, s3, bucket):
    data = os.urandom(200 * KiB + 1)
    path = xohttp.object_path(bucket, "chunked-presigned")
    url = signer.presign("PUT", target.hostport, path)
    hdrs = {"Host": target.hostport, "Transfer-Encoding": "chunked"}
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", url, hdrs, chunked(data, 7777)))
        r = c.response("PUT")
        check_chunked_answer(r, s3, bucket, "chunked-presigned", data)
        c.send(signed(signer, target, "HEAD", xohttp.object_path(bucket, "chunked-presigned")))
        assert c.response("HEAD").status in (200, 404)


def test_aws_chunked_streaming_sigv4(target, signer, s3, bucket):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chained chunk signatures."""
    data = os.urandom(300 * KiB + 17)
    path = xohttp.object_path(bucket, "aws-chunked")
    now = datetime.datetime.now(datetime.timezone.utc)
    amzdate = now.strftime("%Y%m%dT%H%M%SZ")
    chunk = 64 * KiB
    nchunks = -(-len(data) // chunk)
    # the encoded length must be known before signing: compute it with a dummy
    enc_len = len(signer.aws_chunked_body(amzdate, "0" * 64, data, chunk))
    hdrs, seed = signer.sign("PUT", target.hostport, path, now=now, payload_hash=xohttp.STREAMING,
                             headers={"content-encoding": "aws-chunked",
                                      "x-amz-decoded-content-length": str(len(data)),
                                      "content-length": str(enc_len)})
    body = signer.aws_chunked_body(amzdate, seed, data, chunk)
    assert len(body) == enc_len and nchunks > 1
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", path, hdrs, body))
        r = c.response("PUT")
    assert r.status == 200, r
    assert get_object(s3, bucket, "aws-chunked") == data


def test_aws_chunked_bad_chunk_signature(target, signer, s3, bucket):
    data = os.urandom(100 * KiB)
    path = xohttp.object_path(bucket, "aws-chunked-bad")
    now = datetime.datetime.now(datetime.timezone.utc)
    amzdate = now.strftime("%Y%m%dT%H%M%SZ")
    enc_len = len(signer.aws_chunked_body(amzdate, "0" * 64, data, 32 * KiB))
    hdrs, seed = signer.sign("PUT", target.hostport, path, now=now, payload_hash=xohttp.STREAMING,
                             headers={"content-encoding": "aws-chunked",
                                      "x-amz-decoded-content-length": str(len(data)),
                                      "content-length": str(enc_len)})
    body = signer.aws_chunked_body(amzdate, "f" * 64, data, 32 * KiB)  # wrong seed
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", path, hdrs, body))
        r = c.response("PUT")
    assert r.status == 403, r
    assert r.error_code() == "SignatureDoesNotMatch"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_expect_100_continue(target, signer, s3, bucket):
    data = os.urandom(2 * MiB + 5)
    path = xohttp.object_path(bucket, "expect")
    hdrs, _ = signer.sign("PUT", target.hostport, path, payload_hash=xohttp.sha256_hex(data))
    hdrs["content-length"] = str(len(data))
    hdrs["expect"] = "100-continue"
    with target.conn(timeout=10) as c:
        c.send(xohttp.build_request("PUT", path, hdrs))
        try:
            interim = c.response("PUT")
        except socket.timeout:
            pytest.fail("no 100 Continue within 10 s")
        assert interim.status == 100, interim
        c.send(data)
        r = c.response("PUT")
        assert r.status == 200, r
        # and the connection carries on
        c.send(signed(signer, target, "GET", path))
        r = c.response()
        assert r.status == 200 and r.body == data


def test_expect_100_continue_denied(target, signer2, s3, bucket):
    """A request that will be refused is answered without the body being sent."""
    path = xohttp.object_path(bucket, "expect-denied")
    hdrs, _ = signer2.sign("PUT", target.hostport, path, payload_hash=xohttp.UNSIGNED)
    hdrs["content-length"] = str(MiB)
    hdrs["expect"] = "100-continue"
    with target.conn(timeout=10) as c:
        c.send(xohttp.build_request("PUT", path, hdrs))
        try:
            r = c.response("PUT")
        except socket.timeout:
            pytest.fail("no response to a refused Expect: 100-continue request within 10 s")
        if r.status == 100:
            pytest.fail("100 Continue sent for a request that is refused (403)")
        assert r.status == 403 and r.error_code() == "AccessDenied", r


def test_http10_get(target, s3, bucket):
    """HTTP/1.0 without keep-alive: answered, then the server closes."""
    s3.put_object(Bucket=bucket, Key="h10", Body=b"old client", ACL="public-read")
    with target.conn() as c:
        c.send(f"GET /{bucket}/h10 HTTP/1.0\r\nHost: {target.hostport}\r\n\r\n".encode())
        r = c.response()
        assert r.status == 200 and r.body == b"old client"
        assert c.rfile.read() == b""  # closed


def test_client_abort_mid_download(target, signer, s3, bucket):
    """A client that vanishes in the middle of a large GET leaves nothing
    behind that could corrupt later responses (e.g. a half-read upstream
    connection being reused)."""
    big = os.urandom(8 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=big)
    small = {f"s{i}": os.urandom(1000 + i) for i in range(8)}
    for k, v in small.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    for _ in range(3):
        c = target.conn()
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "big")))
        c.sock.recv(64 * KiB)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()  # RST
        for k, v in small.items():
            with target.conn() as n:
                n.send(signed(signer, target, "GET", xohttp.object_path(bucket, k)))
                r = n.response()
                assert r.status == 200 and r.body == v, k
    assert get_object(s3, bucket, "big") == big


def test_client_abort_mid_upload(target, signer, s3, bucket):
    path = xohttp.object_path(bucket, "half")
    hdrs, _ = signer.sign("PUT", target.hostport, path)
    hdrs["content-length"] = str(4 * MiB)
    with target.conn() as c:
        c.send(xohttp.build_request("PUT", path, hdrs, os.urandom(MiB)))
    s3.put_object(Bucket=bucket, Key="after", Body=b"fine")
    assert get_object(s3, bucket, "after") == b"fine"
    # the half upload did not create an object
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="half")


def test_connection_close_requested(target, signer, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cc", Body=b"close after this")
    path = xohttp.object_path(bucket, "cc")
    hdrs, _ = signer.sign("GET", target.hostport, path)
    hdrs["Connection"] = "close"
    with target.conn() as c:
        c.send(xohttp.build_request("GET", path, hdrs))
        r = c.response()
        assert r.status == 200 and r.body == b"close after this"
        assert c.rfile.read() == b""


def test_concurrent_clients(target, creds, s3, bucket):
    """16 clients at once, each with its own connection pool: every byte right."""
    import concurrent.futures
    import hashlib
    from conftest import boto_client

    def worker(i):
        cl = boto_client(target, *creds[1])
        data = os.urandom(256 * KiB + i * 4099)
        key = f"conc/{i}"
        cl.put_object(Bucket=bucket, Key=key, Body=data)
        for _ in range(3):
            got = cl.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        r = cl.get_object(Bucket=bucket, Key=key, Range="bytes=1000-1999")["Body"].read()
        assert r == data[1000:2000]
        return i

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        assert sorted(ex.map(worker, range(16))) == list(range(16))
    assert s3.list_objects_v2(Bucket=bucket, Prefix="conc/")["KeyCount"] == 16


def test_pipelined_large_then_small(target, signer, s3, bucket):
    """A large response ahead of small ones in the pipeline: order and bytes kept."""
    big = os.urandom(8 * MiB + 3)
    s3.put_object(Bucket=bucket, Key="big", Body=big)
    s3.put_object(Bucket=bucket, Key="small", Body=b"small one")
    with target.conn(timeout=60) as c:
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "big"))
               + signed(signer, target, "GET", xohttp.object_path(bucket, "small"))
               + signed(signer, target, "HEAD", xohttp.object_path(bucket, "big"))
               + signed(signer, target, "GET", xohttp.object_path(bucket, "big"), headers={})
               )
        r1, r2, r3, r4 = c.response(), c.response(), c.response("HEAD"), c.response()
    assert r1.status == 200 and r1.body == big
    assert r2.status == 200 and r2.body == b"small one"
    assert r3.status == 200 and r3.header("content-length") == str(len(big))
    assert r4.status == 200 and r4.body == big


def test_many_pipelined_requests(target, signer, s3, bucket):
    objs = {f"m{i:03d}": f"object number {i}".encode() * (i + 1) for i in range(100)}
    for k, v in objs.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    batch = b"".join(signed(signer, target, "HEAD" if i % 3 == 2 else "GET",
                            xohttp.object_path(bucket, k)) for i, k in enumerate(objs))
    with target.conn(timeout=60) as c:
        c.send(batch)
        for i, (k, v) in enumerate(objs.items()):
            m = "HEAD" if i % 3 == 2 else "GET"
            r = c.response(m)
            assert r.status == 200, (k, r)
            if m == "GET":
                assert r.body == v, k
            else:
                assert r.header("content-length") == str(len(v)), k


def test_get_with_a_body_then_pipelined_get(target, signer, s3, bucket):
    """A GET that carries a body (Content-Length) must not desynchronise the
    connection: the next pipelined request is answered as itself."""
    s3.put_object(Bucket=bucket, Key="a", Body=b"AAAA")
    s3.put_object(Bucket=bucket, Key="b", Body=b"BBBB")
    body = b"GET /x HTTP/1.1\r\n\r\n"  # looks like a request, but is a body
    first = signed(signer, target, "GET", xohttp.object_path(bucket, "a"), body=body)
    with target.conn() as c:
        c.send(first + signed(signer, target, "GET", xohttp.object_path(bucket, "b")))
        r1 = c.response()
        r2 = c.response()
    assert r1.status in (200, 400), r1
    if r1.status == 200:
        assert r1.body == b"AAAA"
    assert r2.status == 200 and r2.body == b"BBBB", r2


def test_content_length_and_chunked_together(target, signer, s3, bucket):
    """Content-Length together with Transfer-Encoding: chunked (a request
    smuggling shape). Whatever the answer, the bytes after the chunked body
    must be read as the next request, never as part of this one."""
    s3.put_object(Bucket=bucket, Key="b", Body=b"BBBB")
    path = xohttp.object_path(bucket, "smuggle")
    hdrs, _ = signer.sign("PUT", target.hostport, path, payload_hash=xohttp.UNSIGNED)
    hdrs["content-length"] = "3"
    hdrs["transfer-encoding"] = "chunked"
    req = xohttp.build_request("PUT", path, hdrs, b"5\r\nhello\r\n0\r\n\r\n")
    with target.conn(timeout=10) as c:
        c.send(req + signed(signer, target, "GET", xohttp.object_path(bucket, "b")))
        r1 = c.response("PUT")
        assert r1.status in (200, 400, 411), r1
        try:
            r2 = c.response()
        except (xohttp.ConnectionClosed, ConnectionResetError):
            r2 = None  # closing after rejecting it is fine
    if r2 is not None:
        assert r2.status == 200 and r2.body == b"BBBB", r2
    if r1.status == 200:
        assert s3.get_object(Bucket=bucket, Key="smuggle")["Body"].read() == b"hello"


def test_expect_100_body_sent_without_waiting(target, signer, s3, bucket):
    """Clients may send the body right after an Expect: 100-continue header
    (curl does after a second). No confusion: at most one 100, then 200, and
    the connection stays in step."""
    data = os.urandom(300 * KiB)
    path = xohttp.object_path(bucket, "eager")
    hdrs, _ = signer.sign("PUT", target.hostport, path, payload_hash=xohttp.sha256_hex(data))
    hdrs["content-length"] = str(len(data))
    hdrs["expect"] = "100-continue"
    with target.conn(timeout=15) as c:
        c.send(xohttp.build_request("PUT", path, hdrs, data)
               + signed(signer, target, "GET", path))
        r = c.response("PUT")
        if r.status == 100:
            r = c.response("PUT")
        assert r.status == 200, r
        r = c.response()
        assert r.status == 200 and r.body == data, r


def test_client_half_close_after_request(target, signer, s3, bucket):
    """A client that shuts down its sending side after the request still gets
    the response."""
    s3.put_object(Bucket=bucket, Key="hc", Body=b"half closed")
    with target.conn(timeout=10) as c:
        c.send(signed(signer, target, "GET", xohttp.object_path(bucket, "hc")))
        c.half_close()
        try:
            r = c.response()
        except xohttp.ConnectionClosed:
            pytest.fail("no response after the client half-closed")
    assert r.status == 200 and r.body == b"half closed"
