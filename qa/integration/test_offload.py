"""GET offload end to end: xo-gateway hands large GETs to the xo-responder on
the host of the object's primary OSD, which sends the rest of the body
straight to the client and returns the connection.

Checked against the real cluster: bytes (sha256) and headers as radosgw would
send them, ranges, several objects on one kept-alive connection whose
primaries are on different hosts, a pipelined request behind an offloaded
one, the primary moving during a run (`ceph osd out`), a responder killed
before an offer (the gateway relays instead, no client error) and one killed
mid-stream (the client's connection fails promptly; the next one works).
Counters on both daemons' metrics endpoints prove which path served what.
"""

import concurrent.futures
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import REPO, _gateway_pids, env, make_target
from test_locator import LocateTool
from xohttp import build_request
from xometrics import responder_sent, scrape, scrape_until

MiB = 1024 * 1024
SETTLE_TIMEOUT = 90
CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_BPF = 10, 12, 39


def threshold():
    return int(os.environ.get("XO_OFFLOAD_THRESHOLD", "1048576"))


def gateway_samples():
    return scrape(env("XO_GATEWAY_METRICS"))[0]


def grew(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


GETS_OK = 'xo_gateway_requests_total{method="GET",status_class="2xx"}'


def gateway_after_gets(before, gets):
    """The gateway's samples once it has recorded @gets more successful GETs."""
    return scrape_until(env("XO_GATEWAY_METRICS"), lambda a: grew(before, a, GETS_OK) >= gets)


def sha(data):
    return hashlib.sha256(data).hexdigest()


pytestmark = pytest.mark.usefixtures("offload_on")


@pytest.fixture(scope="module")
def locate():
    tool = LocateTool(env("CEPH_CONF"))
    yield lambda bucket, keys: [a.get("host") for a in tool.ask_all([(bucket, k, "") for k in keys])]
    tool.close()


def put_public(s3, bucket, key, data):
    s3.put_object(Bucket=bucket, Key=key, Body=data, ACL="public-read")


class Responders:
    """The instance's xo-responder processes: kill one, start it again as vstart did."""

    def __init__(self):
        self.run = env("XO_RUN_DIR")
        self.nses = env("XO_OSD_NSES").split()

    def index_of(self, host):
        return int(host.rsplit(".", 1)[1]) - 10

    def pid(self, i):
        with open(f"{self.run}/run/xo-responder.{i}.pid") as f:
            return int(f.read())

    def kill(self, i):
        pid = self.pid(i)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split()[2] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.05)

    def start(self, i, *args):
        """Start responder @i again, with @args appended to its command line."""
        vstart = REPO / "vstart-scripts" / "xo-vstart.sh"
        out = subprocess.run([str(vstart), "start-responder", str(i), *args], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        # The gateway tries a responder that was down at most once a second
        # (rgw_xo/responder_links.cc): past that, the next GET finds it.
        time.sleep(1.1)


@pytest.fixture
def responders():
    return Responders()


def gw_host():
    """The gateway's Host: value (over HTTPS when XO_SCHEME=https)."""
    return make_target("gateway").hostport


def raw_get(conn, bucket, key):
    conn.send(build_request("GET", f"/{bucket}/{key}", {"Host": gw_host()}))
    return conn.response()


def gw_conn():
    return make_target("gateway").conn(timeout=30)


@pytest.mark.parametrize("size", [1, 2, 5 * MiB + 3, 13 * MiB])
def test_large_gets_are_offloaded_and_exact(s3_gw, bucket_gw, size):
    size = size if size > 2 else threshold() + size  # just above the threshold
    data = os.urandom(size)
    key = f"off-{size}-{uuid.uuid4().hex[:6]}"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data, ContentType="application/x-xo")
    before, sent_before = gateway_samples(), sum(responder_sent().values())
    got = s3_gw.get_object(Bucket=bucket_gw, Key=key)
    body = got["Body"].read()
    after, sent_after = gateway_after_gets(before, 1), sum(responder_sent().values())
    assert sha(body) == sha(data)
    assert got["ContentLength"] == size and got["ContentType"] == "application/x-xo"
    assert "ContentRange" not in got
    assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1
    assert grew(before, after, "xo_gateway_relayed_body_bytes_total") == threshold()
    assert sent_after - sent_before == size - threshold()


@pytest.mark.parametrize("rng", ["bytes=100-{big}", "bytes=-{big}", "bytes={half}-", "bytes=0-0"])
def test_client_ranges(s3_gw, bucket_gw, rng):
    size = 6 * MiB + 17
    big, half = 2 * max(threshold(), 65536) + 5, size // 2
    data = os.urandom(size)
    key = f"rng-{uuid.uuid4().hex[:6]}"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
    rng = rng.format(big=big, half=half)
    got = s3_gw.get_object(Bucket=bucket_gw, Key=key, Range=rng)
    spec = rng[len("bytes="):]
    first, last = spec.split("-")
    if first == "":
        expected = data[-int(last):]
    else:
        expected = data[int(first):(int(last) + 1 if last else size)]
    assert got["Body"].read() == expected
    assert got["ContentRange"].endswith(f"/{size}")


def test_empty_and_small_objects_are_relayed_whole(s3_gw, bucket_gw):
    for size in (0, 1, min(threshold(), 4096)):
        key = f"small-{size}-{uuid.uuid4().hex[:6]}"
        data = os.urandom(size)
        s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
        before = gateway_samples()
        got = s3_gw.get_object(Bucket=bucket_gw, Key=key)
        assert got["Body"].read() == data and got["ContentLength"] == size
        after = gateway_after_gets(before, 1)
        assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 0


def test_object_replaced_after_small_gets_is_exact_either_way(s3_gw, bucket_gw):
    """The gateway remembers objects radosgw showed to be no larger than the
    threshold and sends their next GETs without its Range (small_objects.h).
    Replaced by a large object, the next GET is still exact and offloaded
    after the threshold's bytes; replaced by a small one again, still exact."""
    key = f"grows-{uuid.uuid4().hex[:6]}"
    small = os.urandom(100)
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=small)
    for _ in range(3):
        assert s3_gw.get_object(Bucket=bucket_gw, Key=key)["Body"].read() == small
    size = 3 * threshold() + 5
    data = os.urandom(size)
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
    before, sent_before = gateway_samples(), sum(responder_sent().values())
    got = s3_gw.get_object(Bucket=bucket_gw, Key=key)
    body = got["Body"].read()
    after, sent_after = gateway_after_gets(before, 1), sum(responder_sent().values())
    assert sha(body) == sha(data)
    assert got["ContentLength"] == size and "ContentRange" not in got
    assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1
    assert grew(before, after, "xo_gateway_relayed_body_bytes_total") == threshold()
    assert sent_after - sent_before == size - threshold()
    small = os.urandom(10)
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=small)
    for _ in range(2):
        got = s3_gw.get_object(Bucket=bucket_gw, Key=key)
        assert got["Body"].read() == small and got["ContentLength"] == 10 and "ContentRange" not in got


def test_keep_alive_across_hosts(s3_gw, public_bucket, locate):
    """One connection, objects whose primaries are on different hosts, one
    after another: each comes back from a responder and the next request works."""
    keys = [f"ka-{i}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    datas = {k: os.urandom(threshold() + 200_000 + i) for i, k in enumerate(keys)}
    for k in keys:
        put_public(s3_gw, public_bucket, k, datas[k])
    hosts = dict(zip(keys, locate(public_bucket, keys)))
    assert len(set(hosts.values())) >= 2, hosts
    sent_before = responder_sent()
    with gw_conn() as conn:
        port = conn.local_addr()[1]
        for k in keys + keys[:3]:
            r = raw_get(conn, public_bucket, k)
            assert r.status == 200 and sha(r.body) == sha(datas[k]), (k, r.status)
        assert conn.local_addr()[1] == port
    sent_after = responder_sent()
    served_by = {h for h in sent_after if sent_after[h] > sent_before.get(h, 0)}
    assert served_by == set(hosts.values())


def test_pipelined_request_behind_an_offloaded_one(s3_gw, public_bucket):
    big, small = os.urandom(3 * threshold() + 1), b"next request"
    put_public(s3_gw, public_bucket, "big", big)
    put_public(s3_gw, public_bucket, "small", small)
    host = gw_host()
    with gw_conn() as conn:
        conn.send(build_request("GET", f"/{public_bucket}/big", {"Host": host}) +
                  build_request("GET", f"/{public_bucket}/small", {"Host": host}))
        first, second = conn.response(), conn.response()
        assert first.status == 200 and sha(first.body) == sha(big)
        assert second.status == 200 and second.body == small


def test_conditional_and_error_responses_pass_through(s3_gw, bucket_gw):
    data = os.urandom(2 * threshold() + 1)
    s3_gw.put_object(Bucket=bucket_gw, Key="cond", Body=data)
    etag = s3_gw.head_object(Bucket=bucket_gw, Key="cond")["ETag"]
    with pytest.raises(Exception) as e:
        s3_gw.get_object(Bucket=bucket_gw, Key="cond", IfNoneMatch=etag)
    assert "304" in str(e.value)
    with pytest.raises(Exception) as e:
        s3_gw.get_object(Bucket=bucket_gw, Key="cond", IfMatch='"0000"')
    assert "412" in str(e.value) or "PreconditionFailed" in str(e.value)
    assert s3_gw.get_object(Bucket=bucket_gw, Key="cond", IfMatch=etag)["Body"].read() == data


def test_ticket_key_rotation_needs_no_restart(s3_gw, bucket_gw):
    """Rotate the ticket key file under a running cluster: add a new first line, then drop the old one.

    Gateway and responders read the same file (vstart), so once the old line is gone an offload
    only succeeds if the gateway signs with the new key it picked up from the rewritten file."""
    from test_handoff_keys import replace_key_file  # here: that module imports this one

    def write_key_file(path, lines):
        replace_key_file(path, "".join(line + "\n" for line in lines))

    path = env("XO_TICKET_KEY")
    gateways = _gateway_pids()
    with open(path) as f:
        original = [line.strip() for line in f if line.strip()]
    data = os.urandom(threshold() * 2 + 1)
    key = f"rot-{uuid.uuid4().hex[:6]}"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
    new_line = f"rot{uuid.uuid4().hex[:6]} {os.urandom(32).hex()}"
    try:
        for lines in ([new_line] + original, [new_line]):
            write_key_file(path, lines)
            before = gateway_samples()
            body = s3_gw.get_object(Bucket=bucket_gw, Key=key)["Body"].read()
            after = gateway_after_gets(before, 1)
            assert sha(body) == sha(data)
            assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1, lines[0].split()[0]
            assert grew(before, after, 'xo_offload_total{outcome="fallback",reason="refused_bad_ticket"}') == 0
    finally:
        write_key_file(path, original)
    assert gateways and _gateway_pids() == gateways, "the gateway restarted"


def test_responder_killed_before_offer_falls_back(s3_gw, public_bucket, locate, responders):
    keys = [f"fb-{i}-{uuid.uuid4().hex[:6]}" for i in range(6)]
    datas = {k: os.urandom(threshold() * 2 + i) for i, k in enumerate(keys)}
    for k in keys:
        put_public(s3_gw, public_bucket, k, datas[k])
    hosts = dict(zip(keys, locate(public_bucket, keys)))
    victim_host = hosts[keys[0]]
    victim = responders.index_of(victim_host)
    responders.kill(victim)
    try:
        before = gateway_samples()
        with gw_conn() as conn:
            for k in keys:
                r = raw_get(conn, public_bucket, k)
                assert r.status == 200 and sha(r.body) == sha(datas[k]), k
        after = gateway_after_gets(before, len(keys))
        on_victim = sum(1 for k in keys if hosts[k] == victim_host)
        fell_back = sum(v - before.get(n, 0) for n, v in after.items()
                        if n.startswith('xo_offload_total{outcome="fallback"'))
        assert fell_back >= on_victim
    finally:
        responders.start(victim)


def test_responder_killed_mid_stream(s3_gw, public_bucket, locate, responders):
    size = 48 * MiB
    data = os.urandom(size)
    key = f"mid-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    victim = responders.index_of(locate(public_bucket, [key])[0])
    conn = gw_conn()
    try:
        conn.sock.settimeout(5)
        conn.send(build_request("GET", f"/{public_bucket}/{key}", {"Host": gw_host()}))
        got = conn.sock.recv(65536)   # the header and the first bytes; then stop reading
        assert got.startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
        responders.kill(victim)
        try:
            failed_after, _ = conn.wait_closed(timeout=10)
            assert failed_after is not None, "the client's connection did not fail within 10 s"
        finally:
            responders.start(victim)
    finally:
        conn.close()
    # The next request (a new connection) works.
    assert sha(s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()) == sha(data)


def ceph(*args):
    out = subprocess.run(["ceph", "-c", env("CEPH_CONF"), "--format", "json"] + list(args),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_primary_moves_during_gets(s3_gw, public_bucket, locate):
    """`ceph osd out` the primary of an object while a client keeps GETting it:
    every GET is exact, before, during and after the move."""
    data = os.urandom(3 * threshold() + 7)
    key = f"move-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    osd = ceph("osd", "map", "default.rgw.buckets.data", locate_oid(public_bucket, key))["acting_primary"]
    stop = threading.Event()
    errors, done = [], [0]

    def keep_getting():
        while not stop.is_set():
            try:
                body = s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()
                if body != data:
                    errors.append("wrong bytes")
                done[0] += 1
            except Exception as e:  # noqa: BLE001 - every failure is a test failure
                errors.append(repr(e))

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        getter = pool.submit(keep_getting)
        try:
            time.sleep(1)
            ceph("osd", "out", str(osd))
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while time.monotonic() < deadline:
                moved = ceph("osd", "map", "default.rgw.buckets.data", locate_oid(public_bucket, key))
                if moved["acting_primary"] != osd:
                    break
                time.sleep(0.5)
            assert moved["acting_primary"] != osd, "the primary did not move"
            time.sleep(2)
        finally:
            ceph("osd", "in", str(osd))
            time.sleep(2)
            stop.set()
            getter.result(timeout=60)
    assert not errors, errors[:5]
    assert done[0] >= 3


_oids = {}


def locate_oid(bucket, key):
    """The head object's name, from xo-locate (cached per name)."""
    if (bucket, key) not in _oids:
        tool = LocateTool(env("CEPH_CONF"))
        try:
            _oids[(bucket, key)] = tool.ask_all([(bucket, key, "")])[0]["oid"]
        finally:
            tool.close()
    return _oids[(bucket, key)]


def effective_caps(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    raise AssertionError(f"no CapEff for {pid}")


def test_daemons_hold_only_the_capabilities_they_need(responders):
    """Not root's full set: CAP_NET_ADMIN and CAP_BPF (the gateway also binds port 80)."""
    with open(f"{responders.run}/run/xo-gateway.pid") as f:
        gateway = int(f.read())
    assert effective_caps(gateway) == (1 << CAP_NET_ADMIN) | (1 << CAP_BPF) | (1 << CAP_NET_BIND_SERVICE)
    for i in range(len(responders.nses)):
        assert effective_caps(responders.pid(i)) == (1 << CAP_NET_ADMIN) | (1 << CAP_BPF), i


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("spec", ["bytes=1000-{end}", "bytes=1000-"])
def test_client_range_narrowed_unless_signed(gw, signer, s3_gw, bucket_gw, spec, signed):
    """A Range the client did not sign is narrowed for radosgw to what the
    gateway relays (gateway bytes == threshold) and widened back for the
    client; a signed one is passed on as signed. Either way the client gets
    exactly its range."""
    size = 3 * max(threshold(), 65536) + 11
    data = os.urandom(size)
    s3_gw.put_object(Bucket=bucket_gw, Key="r", Body=data)
    rng = spec.format(end=size - 7)
    first, last = 1000, (size - 7 if "{end}" in spec else size - 1)
    path = f"/{bucket_gw}/r"
    if signed:
        headers, _ = signer.sign("GET", gw.hostport, path, headers={"Range": rng})
        target = path
    else:
        headers, target = {"Host": gw.hostport, "Range": rng}, signer.presign("GET", gw.hostport, path)
    before = gateway_samples()
    with gw_conn() as conn:
        conn.send(build_request("GET", target, headers))
        r = conn.response()
    assert r.status == 206, (r.status, r.body[:300])
    assert r.header("Content-Range") == f"bytes {first}-{last}/{size}"
    assert int(r.header("Content-Length")) == last - first + 1
    assert sha(r.body) == sha(data[first:last + 1])
    # The relayed bytes are counted when the exchange ends, a moment after
    # the GET and its offload are: wait for all three.
    relayed = "xo_gateway_relayed_body_bytes_total"
    after = scrape_until(env("XO_GATEWAY_METRICS"),
                         lambda a: grew(before, a, GETS_OK) >= 1 and grew(before, a, relayed) >= threshold())
    assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1
    assert grew(before, after, relayed) == threshold()
