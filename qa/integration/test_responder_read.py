"""xo-responder's read path (osd_xo/servable.h) against radosgw's own bytes.

build/qa/tools/xo-read-object (or XO_READ_OBJECT_BIN) runs exactly the code
xo-responder runs for an OFFER and after GO — one head read (xattrs, stat,
first bytes), the vet, then pipelined RADOS reads — with stdout instead of
the client's socket. Objects of every layout radosgw writes (inline head,
exactly one stripe, head plus short tail, several stripes, uneven multipart
parts, '_' keys with a locator, keys with '/' and spaces, versions) are put
through radosgw directly; for each, several byte ranges (whole object,
first and last byte, across stripe and part boundaries, within the head,
read-size pieces) must come out byte for byte (sha256). A wrong ETag must be
refused (exit 3), as the responder would REFUSE the OFFER. Every running
responder's metrics endpoint must expose the responder's series, and a
responder that refuses an object (marked with a storage class it does not
serve) must make the gateway relay the GET instead, exactly.
"""

import hashlib
import json
import os
import subprocess
import time

import pytest

import rados

from conftest import boto_client, built_tool, env, unique
from xometrics import responder_urls, scrape

MiB = 1024 * 1024
TOOL_TIMEOUT = 60


@pytest.fixture(scope="module")
def tool():
    return built_tool("xo-read-object", "XO_READ_OBJECT_BIN")


@pytest.fixture(scope="module")
def s3(rgw, creds):
    return boto_client(rgw, *creds[1])


def body(n, seed):
    block = hashlib.sha256(seed.encode()).digest() * 2048   # 64 KiB, distinct per seed
    return (block * (n // len(block) + 1))[:n]


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Obj:
    def __init__(self, bucket, key, data, etag, version=None):
        self.bucket, self.key, self.data, self.etag, self.version = bucket, key, data, etag, version


def delete_all_versions(s3, bucket):
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        s3.delete_bucket(Bucket=bucket)
    except Exception as e:  # clean-up must not hide the test's own result
        print(f"clean-up of bucket {bucket} failed: {e!r}")


@pytest.fixture(scope="module")
def objects(s3):
    plain, versioned = unique("xorr"), unique("xorrv")
    s3.create_bucket(Bucket=plain)
    s3.create_bucket(Bucket=versioned)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    out = {}

    def etag(bucket, key, version=None):
        # As radosgw reports it on GET, which is what the gateway puts in a plan.
        extra = {"VersionId": version} if version else {}
        return s3.head_object(Bucket=bucket, Key=key, **extra)["ETag"].strip('"')

    def put(name, bucket, key, size):
        data = body(size, name)
        r = s3.put_object(Bucket=bucket, Key=key, Body=data)   # one PUT, never multipart
        version = r.get("VersionId")
        out[name] = Obj(bucket, key, data, etag(bucket, key, version), version)

    try:
        put("one_byte", plain, "one", 1)
        put("one_mib", plain, "onemib", MiB)
        put("exactly_4MiB", plain, "four", 4 * MiB)
        put("4MiB_plus_1", plain, "fourplus", 4 * MiB + 1)
        put("single_put_13MiB", plain, "thirteen", 13 * MiB)
        put("underscore_key", plain, "_under/score", 5 * MiB + 17)
        put("slash_space_key", plain, "dir/with space/k e y", 6 * MiB + 3)

        parts = [5 * MiB, 9 * MiB + 7, 5 * MiB + 1, 3]        # uneven; a part of 3 stripes; a tiny last part
        data = b"".join(body(n, f"part{i}") for i, n in enumerate(parts))
        key = "multi part/obj"
        up = s3.create_multipart_upload(Bucket=plain, Key=key)["UploadId"]
        done, ofs = [], 0
        for i, n in enumerate(parts, start=1):
            r = s3.upload_part(Bucket=plain, Key=key, UploadId=up, PartNumber=i, Body=data[ofs:ofs + n])
            done.append({"ETag": r["ETag"], "PartNumber": i})
            ofs += n
        s3.complete_multipart_upload(Bucket=plain, Key=key, UploadId=up, MultipartUpload={"Parts": done})
        out["multipart"] = Obj(plain, key, data, etag(plain, key))
        assert out["multipart"].etag.endswith("-4")

        put("versioned_v1", versioned, "doc", 6 * MiB + 5)
        put("versioned_v2", versioned, "doc", 4 * MiB + 9)
        yield out
    finally:
        delete_all_versions(s3, versioned)
        delete_all_versions(s3, plain)


def ranges(n):
    """(first, length) pairs worth reading from an object of @n bytes."""
    want = [(0, n), (0, 1), (n - 1, 1), (1, n - 2), (n // 3, n // 3 + 1)]
    for boundary in (MiB, 4 * MiB, 5 * MiB, 8 * MiB, 14 * MiB + 7):  # read pieces, stripes, parts
        want.append((boundary - 3, 7))
        want.append((boundary, 2 * MiB + 1))
    return sorted({(f, min(l, n - f)) for f, l in want if 0 <= f < n and l > 0})


def read(tool, o, first=None, length=None, etag=None, extra=()):
    cmd = [tool, "--conf", env("CEPH_CONF"), "--bucket", o.bucket, "--key", o.key, *extra]
    if o.version:
        cmd += ["--version", o.version]
    if first is not None:
        cmd += ["--first", str(first)]
    if length is not None:
        cmd += ["--length", str(length)]
    if etag is not None:
        cmd += ["--etag", etag]
    return subprocess.run(cmd, capture_output=True, timeout=TOOL_TIMEOUT)


CASES = ["one_byte", "one_mib", "exactly_4MiB", "4MiB_plus_1", "single_put_13MiB", "underscore_key",
         "slash_space_key", "multipart", "versioned_v1", "versioned_v2"]


@pytest.mark.parametrize("name", CASES)
def test_ranges_equal_the_object(name, objects, tool):
    o = objects[name]
    if name.startswith("versioned"):
        assert o.version, "the versioned bucket returned no version id"
    for first, length in ranges(len(o.data)):
        r = read(tool, o, first, length, etag=o.etag)
        assert r.returncode == 0, f"{name} {first}+{length}: exit {r.returncode}: {r.stderr.decode()}"
        assert len(r.stdout) == length, f"{name} {first}+{length}: {len(r.stdout)} bytes"
        assert sha(r.stdout) == sha(o.data[first:first + length]), f"{name} {first}+{length}: bytes differ"


def test_whole_object_with_small_reads_and_deep_pipeline(objects, tool):
    """Reads of 64 KiB, 16 in flight: many pieces per stripe, completions racing the writes."""
    o = objects["multipart"]
    r = read(tool, o, etag=o.etag, extra=["--read-bytes", str(64 * 1024), "--pipeline-depth", "16"])
    assert r.returncode == 0, r.stderr.decode()
    assert sha(r.stdout) == sha(o.data)


def test_wrong_etag_is_refused(objects, tool):
    o = objects["single_put_13MiB"]
    r = read(tool, o, 0, 10, etag="0" * 32)
    assert r.returncode == 3, r.stderr.decode()
    assert r.stdout == b""
    assert b"ETag" in r.stderr and b"refused (unsupported)" in r.stderr


def test_old_version_etag_does_not_serve_the_new_version(objects, tool):
    """A version asked for with the ETag of another version is refused."""
    old, new = objects["versioned_v1"], objects["versioned_v2"]
    r = read(tool, new, 0, 10, etag=old.etag)
    assert r.returncode == 3, r.stderr.decode()
    assert b"ETag" in r.stderr


def test_versioned_head_without_version_is_refused(objects, tool):
    """Without a version id the head is radosgw's OLH object, a pointer to the
    current version with neither ETag nor manifest of its own."""
    o = objects["versioned_v2"]
    r = read(tool, Obj(o.bucket, o.key, o.data, o.etag), 0, 10, etag=o.etag)
    assert r.returncode == 3, r.stderr.decode()
    assert b"no ETag" in r.stderr


def test_range_outside_the_object_is_a_usage_error(objects, tool):
    o = objects["one_mib"]
    r = read(tool, o, MiB, 1, etag=o.etag)
    assert r.returncode == 2, r.stderr.decode()


def test_missing_object_is_an_error(objects, tool):
    o = objects["one_byte"]
    r = read(tool, Obj(o.bucket, "no-such-key", b"", o.etag), 0, 1, etag=o.etag)
    assert r.returncode == 1, r.stderr.decode()
    assert r.stdout == b""


RESPONDER_SERIES = [
    'xo_responder_offers_total{outcome="served"}',
    'xo_responder_offers_total{outcome="failed"}',
    'xo_responder_offers_total{outcome="refused_bad_ticket"}',
    'xo_responder_offers_total{outcome="refused_unsupported"}',
    'xo_responder_offers_total{outcome="refused_error"}',
    "xo_responder_sent_body_bytes_total",
    "xo_responder_stream_errors_total",
    "xo_responder_connections",
    "xo_responder_head_read_seconds_count",
    "xo_responder_stream_seconds_count",
]


def test_responders_expose_their_metrics():
    urls = responder_urls()
    if not urls:
        pytest.skip("SKIPPED: no responders (cluster started with XO_OFFLOAD=0)")
    for url in urls:
        samples, _ = scrape(url)
        missing = [s for s in RESPONDER_SERIES if s not in samples]
        assert not missing, f"{url} lacks {missing}"
        assert samples["xo_responder_connections"] >= 0


def responders_total(name):
    return sum(scrape(url)[0].get(name, 0) for url in responder_urls())


def wait_for(read, want, timeout=5.0):
    """read() once it returns @want, or its last value after @timeout (the
    gateway records a GET when its connection is done with it)."""
    deadline = time.monotonic() + timeout
    while True:
        v = read()
        if v == want or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def test_refused_object_is_relayed_by_the_gateway(s3_gw, bucket_gw):
    """An object whose head says storage class COLD (xattr set here with
    librados; radosgw still serves it from the same RADOS objects) is refused
    by the responder as unsupported; the gateway falls back and the client
    gets the exact bytes."""
    if not responder_urls():
        pytest.skip("SKIPPED: no responders (cluster started with XO_OFFLOAD=0)")
    size = 2 * int(os.environ.get("XO_OFFLOAD_THRESHOLD", "1048576")) + 1
    data = body(size, "cold")
    key = "cold-object"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
    stats = subprocess.run(["radosgw-admin", "bucket", "stats", "--bucket", bucket_gw],
                           capture_output=True, timeout=TOOL_TIMEOUT, check=True)
    marker = json.loads(stats.stdout.decode("utf-8", errors="replace"))["marker"]
    cluster = rados.Rados(conffile=env("CEPH_CONF"), conf={"client_mount_timeout": "15"})
    cluster.connect(timeout=15)
    try:
        io = cluster.open_ioctx("default.rgw.buckets.data")
        io.set_xattr(f"{marker}_{key}", "user.rgw.storage_class", b"COLD\0")
        io.close()
    finally:
        cluster.shutdown()

    refused = 'xo_responder_offers_total{outcome="refused_unsupported"}'
    fallback = 'xo_offload_total{outcome="fallback",reason="refused_unsupported"}'
    gateway = env("XO_GATEWAY_METRICS")
    refused_before = responders_total(refused)
    fallback_before = scrape(gateway)[0].get(fallback, 0)
    got = s3_gw.get_object(Bucket=bucket_gw, Key=key)["Body"].read()
    assert sha(got) == sha(data)
    assert responders_total(refused) - refused_before == 1
    assert wait_for(lambda: scrape(gateway)[0].get(fallback, 0), fallback_before + 1) == fallback_before + 1
