"""The Locator (rgw_xo/locator.h) against the cluster's own answers.

Objects are created through radosgw, so markers, oids and locators are the
real ones; `xo-locate` (qa/tools/locate.cc) answers for each S3 name, and
every answer is checked against the oracle over one librados connection:
  - `osd map <pool> <placement name>` gives the same PG, acting primary and epoch,
  - the oid exists in RADOS under the answered locator (stat), with the PUT's size,
  - `osd metadata`'s front address of the primary has the answered host IP.
One `ceph osd map` CLI call costs ~0.25 s of CPU, so the oracle uses
python3-rados's mon_command in a loop instead.
"""

import json
import os
import queue
import random
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import rados

from conftest import REPO, boto_client, empty_and_delete, env, make_target, unique

DATA_POOL = "default.rgw.buckets.data"
ANSWER_TIMEOUT = 30  # seconds for one answer of xo-locate
SETTLE_TIMEOUT = 60  # seconds for the cluster to settle after `osd out`/`in`
PUT_THREADS = 16


def locate_binary():
    return os.environ.get("XO_LOCATE_BIN", str(REPO / "build" / "qa" / "tools" / "xo-locate"))


class LocateTool:
    """One long-lived xo-locate process: one JSON line in, one JSON line out."""

    def __init__(self, conf):
        if not os.path.exists(locate_binary()):
            pytest.fail(f"xo-locate binary missing: {locate_binary()} (cmake --build build --target xo-locate)")
        self.proc = subprocess.Popen([locate_binary(), "-c", conf], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     encoding="utf-8", bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def ask_all(self, names):
        """Answers for [(bucket, key, version_id)], in order. The requests are
        written from a thread so that a full pipe cannot deadlock us."""
        def write():
            for bucket, key, version in names:
                self.proc.stdin.write(json.dumps({"bucket": bucket, "key": key, "version_id": version},
                                                 ensure_ascii=False) + "\n")
            self.proc.stdin.flush()
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answers = []
        for _ in names:
            try:
                line = self.lines.get(timeout=ANSWER_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"xo-locate gave no answer within {ANSWER_TIMEOUT} s")
            if line is None:
                pytest.fail(f"xo-locate exited ({self.proc.poll()}): {self.proc.stderr.read()}")
            answers.append(json.loads(line))
        writer.join(ANSWER_TIMEOUT)
        return answers

    def close(self):
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(ANSWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("xo-locate did not exit on end of input")
        assert rc == 0, f"xo-locate exited with {rc}: {self.proc.stderr.read()}"


class Oracle:
    """The cluster's own answers, over one librados connection."""

    def __init__(self, conf):
        self.cluster = rados.Rados(conffile=conf, name="client.admin")
        self.cluster.connect(timeout=20)
        self.ioctx = self.cluster.open_ioctx(DATA_POOL)

    def mon(self, **cmd):
        # ensure_ascii=False: the monitor's JSON parser does not turn \uXXXX
        # escapes into UTF-8, so a non-ASCII object name must travel as raw UTF-8.
        ret, out, err = self.cluster.mon_command(json.dumps(dict(cmd, format="json"), ensure_ascii=False),
                                                 b"", timeout=20)
        assert ret == 0, f"mon command {cmd} failed ({ret}): {err}"
        return json.loads(out) if out else None

    def osd_map(self, name):
        return self.mon(prefix="osd map", pool=DATA_POOL, object=name)

    def hosts(self):
        """OSD id -> IP of its front (public) address, from `osd metadata`."""
        out = {}
        for m in self.mon(prefix="osd metadata"):
            ip = re.search(r"v[12]:(\[[^\]]+\]|[^:,\]]+):", m["front_addr"]).group(1).strip("[]")
            out[m["id"]] = ip
        return out

    def stat(self, oid, locator):
        self.ioctx.set_locator_key(locator)
        try:
            return self.ioctx.stat(oid)[0]
        finally:
            self.ioctx.set_locator_key("")

    def epoch(self):
        return self.mon(prefix="osd stat")["epoch"]

    def close(self):
        self.ioctx.close()
        self.cluster.shutdown()


def mismatches(oracle, names, answers, sizes):
    """[(name, why)] for every answer that differs from the oracle."""
    hosts = oracle.hosts()
    bad = []
    for name, a in zip(names, answers):
        if "error" in a:
            bad.append((name, a["error"]))
            continue
        placement = a["locator"] or a["oid"]
        m = oracle.osd_map(placement)
        got = (a["pgid"], a["osd"], a["epoch"])
        want = (m["pgid"], m["acting_primary"], m["epoch"])
        if got != want:
            bad.append((name, f"(pgid, primary, epoch) {got} != oracle {want}"))
        elif a["host"] != hosts.get(a["osd"]):
            bad.append((name, f"host {a['host']} != osd metadata {hosts.get(a['osd'])}"))
    return bad


def check_oids_exist(oracle, names, answers, sizes):
    for name, a in zip(names, answers):
        assert "error" not in a, f"{name}: {a['error']}"
        try:
            size = oracle.stat(a["oid"], a["locator"])
        except rados.ObjectNotFound:
            pytest.fail(f"{name}: oid {a['oid']!r} locator {a['locator']!r} does not exist in RADOS")
        assert size == sizes[name] == a["head_size"], f"{name}: sizes differ"


def generated_keys(rng, count):
    """Keys of every shape the oid mapping distinguishes."""
    # No "." (dot segments) and no "//": HTTP stacks may normalise those in a path.
    alphabet = "abcXYZ019-_~ /_é✓日本🙂"
    shapes = [
        lambda i: f"plain-{i}",
        lambda i: f"_under-{i}",
        lambda i: f"__double-{i}",
        lambda i: f"_/{i}/slash",
        lambda i: f"dir {i}/sub dir/file {i}.txt",
        lambda i: f"ünïcødé/日本語/{i}/🙂",
        lambda i: f"trailing_{i}_",
        lambda i: f"{i}:" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))).replace("//", "/"),
        lambda i: f"_{i}" + "L" * rng.randint(200, 900),
        lambda i: f"long-{i}-" + "é" * rng.randint(100, 450),
    ]
    return [shapes[i % len(shapes)](i) for i in range(count)]


@pytest.fixture(scope="module")
def oracle():
    o = Oracle(env("CEPH_CONF"))
    yield o
    o.close()


@pytest.fixture(scope="module")
def tool():
    t = LocateTool(env("CEPH_CONF"))
    yield t
    t.close()


@pytest.fixture(scope="module")
def rgw_s3(creds):
    return boto_client(make_target("rgw"), *creds[1], max_pool_connections=PUT_THREADS)


@pytest.fixture(scope="module")
def population(rgw_s3):
    """≥ 1000 S3 names with their sizes: 800 keys in an unversioned bucket and
    100 keys × 2 versions in a versioned one, PUT in parallel."""
    rng = random.Random(4)
    plain, versioned = unique("xoloc"), unique("xolocv")
    rgw_s3.create_bucket(Bucket=plain)
    rgw_s3.create_bucket(Bucket=versioned)
    rgw_s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})

    def put(bucket, key, body):
        r = rgw_s3.put_object(Bucket=bucket, Key=key, Body=body)
        return (bucket, key, r.get("VersionId", "") if bucket == versioned else ""), len(body)

    jobs = [(plain, k) for k in generated_keys(rng, 800)]
    jobs += [(versioned, k) for k in generated_keys(rng, 100)] * 2
    bodies = [rng.randbytes(rng.randint(1, 64)) for _ in jobs]
    with ThreadPoolExecutor(max_workers=PUT_THREADS) as pool:
        done = list(pool.map(lambda j, body: put(j[0], j[1], body), jobs, bodies))
    sizes = dict(done)
    names = [name for name, _ in done]
    assert len(set(names)) == len(names) == 1000
    assert all(v for b, _, v in names if b == versioned), "versioned PUTs returned no VersionId"
    yield names, sizes
    for bucket in (plain, versioned):
        purge(rgw_s3, bucket)


def purge(client, bucket):
    """Delete every version in @bucket, up to 1000 per request, then the bucket."""
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            victims = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if victims:
                client.delete_objects(Bucket=bucket, Delete={"Objects": victims, "Quiet": True})
    except Exception as e:  # clean-up must not hide the test's own result
        print(f"clean-up of versions in {bucket} failed: {e!r}")
    empty_and_delete(client, bucket)


def agree_with_oracle(tool, oracle, names, sizes, deadline, settled=lambda answers: True):
    """Ask until every answer equals the oracle at the same epoch (the epoch may
    move while the cluster settles) and settled(answers); return the answers."""
    while True:
        answers = tool.ask_all(names)
        bad = mismatches(oracle, names, answers, sizes)
        if not bad and settled(answers):
            return answers
        bad = bad or [("-", "cluster not settled yet")]
        if time.monotonic() > deadline:
            pytest.fail(f"{len(bad)} of {len(names)} answers differ from the oracle, e.g. {bad[:3]}")
        time.sleep(0.5)


def test_locator_equals_oracle(tool, oracle, population):
    names, sizes = population
    t0 = time.monotonic()
    answers = tool.ask_all(names)
    elapsed = time.monotonic() - t0
    check_oids_exist(oracle, names, answers, sizes)
    bad = mismatches(oracle, names, answers, sizes)
    assert not bad, f"{len(bad)} of {len(names)} answers differ from the oracle, e.g. {bad[:3]}"
    assert sum(bool(a["locator"]) for a in answers) >= 100, "too few keys with a locator"
    for (bucket, key, version), a in zip(names, answers):
        assert not version or f"__:{version}_" in a["oid"], f"{key!r} v{version}: instance missing in {a['oid']!r}"
    print(f"{len(names)} names located in {elapsed:.2f} s, all equal to the oracle")

    # Asked again: every primary now comes from the cache, with the same answers.
    again = tool.ask_all(names)
    assert all(a["cached"] for a in again)
    assert [(a["oid"], a["osd"], a["host"]) for a in again] == [(a["oid"], a["osd"], a["host"]) for a in answers]


def test_primary_cache_dropped_on_epoch_change(tool, oracle, population):
    names, sizes = population
    before = agree_with_oracle(tool, oracle, names, sizes, time.monotonic() + SETTLE_TIMEOUT)
    epoch0, drops0 = before[-1]["epoch"], before[-1]["drops"]
    victim = before[0]["osd"]
    try:
        oracle.mon(prefix="osd out", ids=[str(victim)])
        # Settled: backfill is over and no PG keeps the out OSD as its primary.
        after_out = agree_with_oracle(tool, oracle, names, sizes, time.monotonic() + SETTLE_TIMEOUT,
                                      lambda answers: all(a["osd"] != victim for a in answers))
        assert after_out[-1]["epoch"] > epoch0
        assert after_out[-1]["drops"] > drops0, "the primary cache was never dropped"
        moved = [n for n, a, b in zip(names, before, after_out) if a["osd"] != b["osd"]]
        assert moved, f"no PG changed its primary after osd.{victim} went out"
        print(f"osd.{victim} out: epoch {epoch0} -> {after_out[-1]['epoch']}, "
              f"{len(moved)} of {len(names)} names moved, all equal to the oracle")
    finally:
        oracle.mon(prefix="osd in", ids=[str(victim)])
    after_in = agree_with_oracle(tool, oracle, names, sizes, time.monotonic() + SETTLE_TIMEOUT)
    assert after_in[-1]["epoch"] > after_out[-1]["epoch"]
    check_oids_exist(oracle, names, after_in, sizes)


def test_recreated_bucket_is_not_served_from_a_stale_marker(tool, oracle, rgw_s3):
    name = unique("xolocr")
    rgw_s3.create_bucket(Bucket=name)
    rgw_s3.put_object(Bucket=name, Key="_k", Body=b"first")
    first = tool.ask_all([(name, "_k", "")])[0]  # caches the first marker
    assert "error" not in first, first
    rgw_s3.delete_object(Bucket=name, Key="_k")
    rgw_s3.delete_bucket(Bucket=name)
    rgw_s3.create_bucket(Bucket=name)
    try:
        rgw_s3.put_object(Bucket=name, Key="_k", Body=b"second!")
        second = tool.ask_all([(name, "_k", "")])[0]
        assert "error" not in second, second
        assert second["oid"] != first["oid"], "the old marker was used for the new bucket"
        assert oracle.stat(second["oid"], second["locator"]) == 7 == second["head_size"]
    finally:
        empty_and_delete(rgw_s3, name)
    gone = tool.ask_all([(name, "_k", "")])[0]
    assert gone.get("code") == 2, f"deleted bucket still located: {gone}"
