"""S3 semantics through boto3 and raw signed requests: ranges, preconditions,
presigned URLs, access control, errors, HEAD."""

import datetime
import glob
import json
import os
import re
import socket
import subprocess
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

import xohttp

KiB, MiB = 1024, 1024 * 1024
STRIPE = 4 * MiB


def client_error(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code")


@pytest.fixture
def big_object(s3, bucket):
    """A 9 MiB + 123 B object: head stripe plus two tail stripes."""
    data = os.urandom(9 * MiB + 123)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    return bucket, "big", data


RANGES = [
    ("bytes=0-0", 0, 0),
    ("bytes=100-1099", 100, 1099),
    ("bytes=4194300-4194309", STRIPE - 4, STRIPE + 5),             # across the 1st stripe boundary
    ("bytes=4194304-4194304", STRIPE, STRIPE),                     # first byte of a tail stripe
    ("bytes=1048576-9437183", MiB, 9 * MiB - 1),                   # spans all three stripes
    ("bytes=-10", None, None),                                     # suffix
    ("bytes=9437000-", 9437000, None),                             # open ended
]


@pytest.mark.parametrize("rng,first,last", RANGES, ids=[r[0] for r in RANGES])
def test_ranged_get(s3, big_object, rng, first, last):
    bucket, key, data = big_object
    size = len(data)
    if first is None:
        first, last = size - 10, size - 1
    if last is None:
        last = size - 1
    r = s3.get_object(Bucket=bucket, Key=key, Range=rng)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes {first}-{last}/{size}"
    body = r["Body"].read()
    assert r["ContentLength"] == last - first + 1
    assert body == data[first:last + 1]


def test_ranged_get_multipart_across_parts(s3, bucket):
    part = 5 * MiB
    data = os.urandom(2 * part + 1000)
    mp = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    etags = []
    for i in range(3):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=mp["UploadId"], PartNumber=i + 1,
                           Body=data[i * part:(i + 1) * part])
        etags.append({"PartNumber": i + 1, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=mp["UploadId"],
                                 MultipartUpload={"Parts": etags})
    for first, last in [(part - 10, part + 9), (STRIPE - 1, part + STRIPE + 1),
                        (2 * part - 1, 2 * part + 999)]:
        r = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={first}-{last}")
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert r["Body"].read() == data[first:last + 1]
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == data


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    status, code = client_error(s3.get_object, Bucket=bucket, Key="small", Range="bytes=100-200")
    assert (status, code) == (416, "InvalidRange")


def test_conditional_get(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = s3.head_object(Bucket=bucket, Key="c")["ETag"]

    status, _ = client_error(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status == 304
    status, code = client_error(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef"')
    assert (status, code) == (412, "PreconditionFailed")

    r = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)
    assert r["Body"].read() == b"conditional"
    r = s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0123456789abcdef"')
    assert r["Body"].read() == b"conditional"

    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    status, _ = client_error(s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=future)
    assert status == 304
    status, code = client_error(s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    assert (status, code) == (412, "PreconditionFailed")
    # precondition wins over a range
    status, _ = client_error(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag, Range="bytes=0-3")
    assert status == 304


def test_presigned_get(target, s3, bucket):
    data = os.urandom(100 * KiB)
    s3.put_object(Bucket=bucket, Key="pre signed/key+1", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre signed/key+1"},
                                    ExpiresIn=300)
    assert url.startswith(target.url)
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.read() == data

    # http.client with an added (unsigned) Range header
    path = url[len(target.url):]
    c = target.http_connection(timeout=30)
    c.request("GET", path, headers={"Range": "bytes=10-19"})
    r = c.getresponse()
    assert r.status == 206
    assert r.read() == data[10:20]

    # a tampered signature must be refused
    bad = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    c.request("GET", bad[len(target.url):])
    r = c.getresponse()
    body = r.read()
    assert r.status == 403
    assert xohttp.error_code(body) == "SignatureDoesNotMatch"
    c.close()


def test_presigned_put_then_get(target, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pp"}, ExpiresIn=300)
    req = urllib.request.Request(url, data=b"via presigned put", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="pp")["Body"].read() == b"via presigned put"


def test_other_users_private_object(target, s3, s3_user2, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    status, code = client_error(s3_user2.get_object, Bucket=bucket, Key="private")
    assert (status, code) == (403, "AccessDenied")
    status, _ = client_error(s3_user2.head_object, Bucket=bucket, Key="private")
    assert status == 403
    status, code = client_error(s3_user2.put_object, Bucket=bucket, Key="intruder", Body=b"x")
    assert (status, code) == (403, "AccessDenied")
    status, code = client_error(s3_user2.list_objects_v2, Bucket=bucket)
    assert (status, code) == (403, "AccessDenied")
    # anonymous
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(f"{target.url}/{bucket}/private", timeout=30)
    assert ei.value.code == 403
    assert xohttp.error_code(ei.value.read()) == "AccessDenied"
    # after granting public-read, user 2 may read it
    s3.put_object_acl(Bucket=bucket, Key="private", ACL="public-read")
    assert s3_user2.get_object(Bucket=bucket, Key="private")["Body"].read() == b"secret"


def test_missing_key_and_bucket(target, s3, bucket):
    status, code = client_error(s3.get_object, Bucket=bucket, Key="no/such/key")
    assert (status, code) == (404, "NoSuchKey")
    status, code = client_error(s3.get_object, Bucket="xoit-no-such-bucket-1", Key="k")
    assert (status, code) == (404, "NoSuchBucket")
    status, _ = client_error(s3.head_object, Bucket=bucket, Key="no/such/key")
    assert status == 404


def test_missing_key_raw_xml(target, signer, bucket):
    path = xohttp.object_path(bucket, "missing-raw")
    hdrs, _ = signer.sign("GET", target.hostport, path)
    with target.conn() as c:
        c.send(xohttp.build_request("GET", path, hdrs))
        r = c.response()
    assert r.status == 404
    assert r.header("content-type", "").startswith("application/xml")
    assert r.error_code() == "NoSuchKey"
    assert b"<Key>missing-raw</Key>" in r.body or b"<Resource>" in r.body or b"<RequestId>" in r.body


def test_head(s3, bucket):
    data = os.urandom(5 * MiB + 7)
    s3.put_object(Bucket=bucket, Key="h", Body=data, ContentType="application/x-xo-test",
                  Metadata={"color": "blue"})
    h = s3.head_object(Bucket=bucket, Key="h")
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert h["ContentLength"] == len(data)
    assert h["ContentType"] == "application/x-xo-test"
    assert h["Metadata"] == {"color": "blue"}
    g = s3.get_object(Bucket=bucket, Key="h")
    assert g["ETag"] == h["ETag"]
    assert g["Body"].read() == data


def test_head_raw_has_no_body(target, signer, s3, bucket):
    """HEAD advertises the object's length but sends no body; the connection
    stays usable for the next request."""
    s3.put_object(Bucket=bucket, Key="hr", Body=b"x" * 4321)
    path = xohttp.object_path(bucket, "hr")
    with target.conn() as c:
        hdrs, _ = signer.sign("HEAD", target.hostport, path)
        c.send(xohttp.build_request("HEAD", path, hdrs))
        r = c.response("HEAD")
        assert r.status == 200
        assert r.header("content-length") == "4321"
        hdrs, _ = signer.sign("GET", target.hostport, path)
        c.send(xohttp.build_request("GET", path, hdrs))
        r = c.response()
        assert r.status == 200
        assert r.body == b"x" * 4321


def test_list_and_delete_many(s3, bucket):
    keys = [f"dir/{i:03d}" for i in range(25)] + ["top"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", MaxKeys=10)
    assert r["KeyCount"] == 10 and r["IsTruncated"]
    seen = [o["Key"] for o in r["Contents"]]
    while r.get("IsTruncated"):
        r = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", MaxKeys=10,
                               ContinuationToken=r["NextContinuationToken"])
        seen += [o["Key"] for o in r.get("Contents", [])]
    assert seen == sorted(keys[:-1])
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(r["Deleted"]) == len(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_source_ip_policy(target, client_addr, s3, bucket, rgw_admin_s3):
    """The client's real address decides aws:SourceIp: a bucket policy that
    admits anonymous reads only from this namespace's address works, one that
    admits a different address denies. Through the gateway radosgw learns it
    from the gateway's header; radosgw at XO_RGW_ENDPOINT takes the socket's."""
    s3.put_object(Bucket=bucket, Key="ip", Body=b"by address")

    def policy(addr):
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"IpAddress": {"aws:SourceIp": f"{addr}/32"}},
            }],
        })

    url = f"{target.url}/{bucket}/ip"
    rgw_admin_s3.put_bucket_policy(Bucket=bucket, Policy=policy(client_addr))
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == b"by address"

    other = "198.18.0.250" if client_addr != "198.18.0.250" else "198.18.0.251"
    rgw_admin_s3.put_bucket_policy(Bucket=bucket, Policy=policy(other))
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url, timeout=30)
    assert ei.value.code == 403

    # A client cannot claim another address by sending the header itself,
    # in any spelling that radosgw maps to the same HTTP_X_XO_CLIENT_ADDR
    # variable ('_' for '-', any case), before or after other headers: the
    # gateway replaces it, and radosgw at XO_RGW_ENDPOINT does not read it.
    hdr = os.environ.get("XO_CLIENT_ADDR_HEADER", "X-XO-Client-Addr")
    path = f"/{bucket}/ip"
    for spelling in (hdr, hdr.lower(), hdr.upper(), hdr.replace("-", "_"), hdr.lower().replace("-", "_")):
        for where in ("first", "last"):
            lines = [f"Host: {target.hostport}", "User-Agent: xoit"]
            if where == "first":
                lines.insert(0, f"{spelling}: {other}")
            else:
                lines.append(f"{spelling}: {other}")
            req = f"GET {path} HTTP/1.1\r\n" + "\r\n".join(lines) + "\r\n\r\n"
            with target.conn() as c:
                c.send(req.encode())
                r = c.response()
            assert r.status in (400, 403), (spelling, where, r)
            assert r.status == 400 or r.error_code() == "AccessDenied", (spelling, where, r)
            assert r.body != b"by address", f"client-supplied {spelling!r} ({where}) was trusted"


def _radosgw_listeners():
    """{pid: [local address:port of each listening TCP socket]} of the radosgw
    processes in the gateway namespace."""
    ns = os.environ.get("XO_GATEWAY_NS")
    if not ns:
        pytest.fail("XO_GATEWAY_NS not set")
    out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Htlnp"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    found = {}
    for line in out.splitlines():
        for pid in re.findall(r'"radosgw",pid=(\d+)', line):
            found.setdefault(int(pid), []).append(line.split()[3])
    return found


def _remote_addr_param(pid):
    """rgw_remote_addr_param of radosgw @pid, asked through its admin socket."""
    socks = glob.glob(os.path.join(os.environ["XO_RUN_DIR"], "run", f"ceph-client.rgw.*.{pid}.*.asok"))
    assert len(socks) == 1, f"admin socket of radosgw {pid}: {socks}"
    out = subprocess.run(["ceph", "--admin-daemon", socks[0], "config", "get", "rgw_remote_addr_param"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)["rgw_remote_addr_param"]


def test_header_trusting_radosgw_listens_on_loopback_only(rgw):
    """The radosgw that takes the client's address from the gateway's header
    listens only on the gateway host's loopback, out of every client's reach;
    whatever radosgw a client reaches (XO_RGW_ENDPOINT) uses the socket's address."""
    listeners = _radosgw_listeners()
    assert len(listeners) == 2, f"expected the gateway's radosgw and XO_RGW_ENDPOINT's: {listeners}"
    trusting = {pid: addrs for pid, addrs in listeners.items() if _remote_addr_param(pid) != "REMOTE_ADDR"}
    assert len(trusting) == 1, f"one radosgw trusts the gateway's header: {listeners}"
    for pid, addrs in trusting.items():
        assert addrs and all(a.startswith("127.") for a in addrs), (pid, addrs)
    public = [pid for pid, addrs in listeners.items() if f"{rgw.host}:{rgw.port}" in addrs]
    assert len(public) == 1 and public[0] not in trusting, (listeners, trusting)
    # From here (the client namespace) the loopback address is our own: nothing answers there.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", rgw.port), timeout=2).close()
