"""user.rgw.manifest decoding (common/rgw/rgw_manifest.h) against radosgw itself.

Objects of every layout radosgw 16.2 writes are created through radosgw
directly; for each, build/qa/tools/xo-manifest-dump (or XO_MANIFEST_DUMP_BIN)
decodes the head's manifest into RADOS extents. The test checks that
  - the decoded fields equal what `radosgw-admin object stat` reports,
  - the extents tile the object and each covers a whole RADOS object,
  - reading the extents with librados and concatenating them gives exactly
    the object's bytes (sha256).
The head's name and locator are computed here from the bucket marker, the key
and the version id, independently of the decoder.
"""

import hashlib
import json
import subprocess

import pytest
import rados

from conftest import boto_client, built_tool, env, unique

MiB = 1024 * 1024
DATA_POOL = "default.rgw.buckets.data"   # the default zone's placement
TOOL_TIMEOUT = 60


@pytest.fixture(scope="module")
def tool():
    return built_tool("xo-manifest-dump", "XO_MANIFEST_DUMP_BIN")


@pytest.fixture(scope="module")
def ioctx():
    cluster = rados.Rados(conffile=env("CEPH_CONF"), conf={"client_mount_timeout": "15"})
    cluster.connect(timeout=15)
    io = cluster.open_ioctx(DATA_POOL)
    yield io
    io.close()
    cluster.shutdown()


@pytest.fixture(scope="module")
def s3(rgw, creds):
    return boto_client(rgw, *creds[1])


def admin(*args):
    # Bytes, not text: `object stat` prints binary xattrs (pg_ver, ...) as is,
    # and those need not be UTF-8. The fields compared here are.
    r = subprocess.run(["radosgw-admin", *args], capture_output=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 0, f"radosgw-admin {' '.join(args)}: {r.stderr!r}"
    return json.loads(r.stdout.decode("utf-8", errors="replace"), strict=False)


def delete_all_versions(s3, bucket):
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket=bucket)
    except Exception as e:  # clean-up must not hide the test's own result
        print(f"clean-up of bucket {bucket} failed: {e!r}")


def body(n, seed):
    block = hashlib.sha256(seed.encode()).digest() * 2048   # 64 KiB, distinct per seed
    return (block * (n // len(block) + 1))[:n]


class Obj:
    """An S3 object as put, with what it takes to find its head."""

    def __init__(self, bucket, key, data, version=None):
        self.bucket, self.key, self.data, self.version = bucket, key, data, version

    def head(self, marker):
        # rgw_obj_key::get_oid()/get_loc() as documented in rgw_manifest.h.
        k = self.key
        if self.version:
            oid = f"_:{self.version}_{k}"
        else:
            oid = "_" + k if k.startswith("_") else k
        locator = f"{marker}_{k}" if k.startswith("_") else ""
        return f"{marker}_{oid}", locator


@pytest.fixture(scope="module")
def objects(s3):
    plain, versioned = unique("xomf"), unique("xomfv")
    s3.create_bucket(Bucket=plain)
    s3.create_bucket(Bucket=versioned)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    out = {}

    def put(name, bucket, key, size):
        data = body(size, name)
        r = s3.put_object(Bucket=bucket, Key=key, Body=data)
        out[name] = Obj(bucket, key, data, r.get("VersionId"))

    try:
        put("small", plain, "small.bin", 1000)
        put("exactly_4MiB", plain, "exact", 4 * MiB)
        put("empty", plain, "zero", 0)
        put("single_put_9MiB", plain, "big", 9 * MiB + 123)
        put("underscore_key", plain, "_under/score", 5 * MiB + 17)
        put("slash_space_key", plain, "dir/with space/k e y", 6 * MiB)

        parts = [5 * MiB, 9 * MiB, 5 * MiB + 1, 3]        # uneven; a part of 3 stripes; a tiny last part
        data = b"".join(body(n, f"part{i}") for i, n in enumerate(parts))
        key = "multi part/obj"
        up = s3.create_multipart_upload(Bucket=plain, Key=key)["UploadId"]
        done, ofs = [], 0
        for i, n in enumerate(parts, start=1):
            r = s3.upload_part(Bucket=plain, Key=key, UploadId=up, PartNumber=i, Body=data[ofs:ofs + n])
            done.append({"ETag": r["ETag"], "PartNumber": i})
            ofs += n
        s3.complete_multipart_upload(Bucket=plain, Key=key, UploadId=up, MultipartUpload={"Parts": done})
        out["multipart"] = Obj(plain, key, data)

        put("versioned_v1", versioned, "doc", 6 * MiB + 5)
        put("versioned_v2", versioned, "doc", 4 * MiB + 1)
        put("versioned_underscore", versioned, "_vdoc", 5 * MiB)
        # A server-side copy shares the source's tail; radosgw's reply to it
        # carries no version id, HEAD gives it.
        s3.copy_object(Bucket=versioned, Key="copied", CopySource={"Bucket": plain, "Key": "big"})
        version = s3.head_object(Bucket=versioned, Key="copied").get("VersionId")
        out["copied_across_buckets"] = Obj(versioned, "copied", out["single_put_9MiB"].data, version)
        yield out
    finally:
        delete_all_versions(s3, versioned)    # first: it shares the copied tail
        delete_all_versions(s3, plain)


CASES = ["small", "exactly_4MiB", "empty", "single_put_9MiB", "underscore_key", "slash_space_key", "multipart",
         "versioned_v1", "versioned_v2", "versioned_underscore", "copied_across_buckets"]


@pytest.mark.parametrize("name", CASES)
def test_manifest_matches_radosgw(name, objects, tool, ioctx):
    o = objects[name]
    if name.startswith("versioned") or name == "copied_across_buckets":
        assert o.version, "the versioned bucket returned no version id"
    marker = admin("bucket", "stats", "--bucket", o.bucket)["marker"]
    oid, locator = o.head(marker)

    r = subprocess.run([tool, DATA_POOL, oid, locator, ""], capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 0, f"xo-manifest-dump {oid!r} {locator!r}: {r.stderr}"
    got = json.loads(r.stdout)

    stat_args = ["object", "stat", "--bucket", o.bucket, "--object", o.key]
    if o.version:
        stat_args += ["--object-version", o.version]
    want = admin(*stat_args)
    assert want["size"] == len(o.data)
    wm = want["manifest"]
    for field in ("obj_size", "head_size", "max_head_size", "prefix", "tail_instance"):
        assert got[field] == wm[field], field
    assert str(got["explicit_objs"]).lower() == wm["explicit_objs"]
    assert [(r["key"], r["start_part_num"], r["start_ofs"], r["part_size"], r["stripe_max_size"],
             r["override_prefix"]) for r in got["rules"]] == \
        [(r["key"], r["val"]["start_part_num"], r["val"]["start_ofs"], r["val"]["part_size"],
          r["val"]["stripe_max_size"], r["val"]["override_prefix"]) for r in wm["rules"]]

    extents = got["extents"]
    if not o.data:
        assert extents == []
        return
    assert extents[0]["oid"] == oid and extents[0]["locator"] == locator or got["head_size"] == 0
    ofs = 0
    digest = hashlib.sha256()
    for e in extents:
        assert e["logical_offset"] == ofs and e["length"] > 0, e
        assert e["pool"] == DATA_POOL and e["nspace"] == ""
        ioctx.set_namespace(e["nspace"])
        ioctx.set_locator_key(e["locator"])
        size, _ = ioctx.stat(e["oid"])
        assert size == e["rados_offset"] + e["length"], f"{e['oid']} holds {size} bytes"
        chunk = ioctx.read(e["oid"], e["length"], e["rados_offset"])
        assert len(chunk) == e["length"], e
        digest.update(chunk)
        ofs += e["length"]
    assert ofs == len(o.data)
    assert digest.hexdigest() == hashlib.sha256(o.data).hexdigest()


def test_wrong_head_is_refused(objects, tool):
    """The tool refuses a manifest read through a name it does not describe
    (an underscore key's head without its locator is a different object)."""
    o = objects["underscore_key"]
    marker = admin("bucket", "stats", "--bucket", o.bucket)["marker"]
    oid, locator = o.head(marker)
    assert locator
    r = subprocess.run([tool, DATA_POOL, oid], capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 1
    assert r.stdout == ""
