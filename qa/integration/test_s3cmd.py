"""Object round trips with s3cmd: make bucket, put, list, get, delete."""

import hashlib
import os
import subprocess

import pytest

from conftest import unique, empty_and_delete

KiB, MiB = 1024, 1024 * 1024


def s3cmd(cfg, *args, check=True, timeout=300):
    cmd = ["s3cmd", "-c", cfg, "--no-progress"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} -> {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def write_random(path, size):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 4 * MiB))
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture
def s3cmd_bucket(s3cmd_cfg, rgw_admin_s3):
    name = unique()
    out = s3cmd(s3cmd_cfg, "mb", f"s3://{name}")
    assert f"s3://{name}" in out.stdout
    yield name
    empty_and_delete(rgw_admin_s3, name)


@pytest.mark.parametrize("size,chunk_mb", [
    (0, None),
    (1 * KiB, None),
    (1 * MiB, None),
    (8 * MiB, None),        # plain PUT: head (4 MiB) + one tail stripe
    (8 * MiB, 5),           # multipart, 2 parts
    (64 * MiB, 15),         # multipart, 5 parts
], ids=["0B", "1KiB", "1MiB", "8MiB", "8MiB-multipart", "64MiB-multipart"])
def test_s3cmd_roundtrip(target, s3cmd_cfg, s3cmd_bucket, rgw_admin_s3, tmp_path, size, chunk_mb):
    src = tmp_path / "src"
    digest = write_random(src, size)
    key = f"obj-{size}"
    uri = f"s3://{s3cmd_bucket}/{key}"

    put_args = ["put", str(src), uri]
    if chunk_mb:
        put_args.insert(1, f"--multipart-chunk-size-mb={chunk_mb}")
    else:
        put_args.insert(1, "--disable-multipart")
    s3cmd(s3cmd_cfg, *put_args)

    # The object as radosgw stored it: size, and multipart-ness in the ETag.
    head = rgw_admin_s3.head_object(Bucket=s3cmd_bucket, Key=key)
    assert head["ContentLength"] == size
    if chunk_mb:
        parts = -(-size // (chunk_mb * MiB))
        assert head["ETag"].strip('"').endswith(f"-{parts}"), head["ETag"]
    else:
        assert "-" not in head["ETag"]

    listing = s3cmd(s3cmd_cfg, "ls", f"s3://{s3cmd_bucket}").stdout
    line = [ln for ln in listing.splitlines() if ln.endswith(uri)]
    assert line, listing
    assert str(size) in line[0].split()

    dst = tmp_path / "dst"
    s3cmd(s3cmd_cfg, "get", "--force", uri, str(dst))
    assert dst.stat().st_size == size
    assert file_sha256(dst) == digest

    s3cmd(s3cmd_cfg, "del", uri)
    listing = s3cmd(s3cmd_cfg, "ls", f"s3://{s3cmd_bucket}").stdout
    assert uri not in listing
    p = s3cmd(s3cmd_cfg, "get", "--force", uri, str(tmp_path / "gone"), check=False)
    assert p.returncode != 0
    assert any(s in p.stderr for s in ("404", "NoSuchKey", "does not exist")), p.stderr


def test_s3cmd_bucket_lifecycle(target, s3cmd_cfg, rgw_admin_s3):
    name = unique()
    s3cmd(s3cmd_cfg, "mb", f"s3://{name}")
    try:
        assert f"s3://{name}" in s3cmd(s3cmd_cfg, "ls").stdout
        rgw_admin_s3.head_bucket(Bucket=name)  # really exists in radosgw
        s3cmd(s3cmd_cfg, "rb", f"s3://{name}")
        assert f"s3://{name}" not in s3cmd(s3cmd_cfg, "ls").stdout
    finally:
        empty_and_delete(rgw_admin_s3, name)


def test_s3cmd_given_config(gw):
    """The s3cmd config that xo-vstart.sh writes for clients works as is."""
    cfg = os.environ.get("XO_S3CFG")
    if not cfg:
        pytest.skip("XO_S3CFG not provided")
    s3cmd(cfg, "ls")
