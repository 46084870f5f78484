"""Offload under traffic as it really behaves: clients that abort downloads
at any moment, clients slower than every timeout, responders that stop (SIGSTOP)
with a transfer or an offer in flight, and a GO that arrives after the
responder gave up.

After each of them: no daemon died, no flow entry, egress rewrite or restored
socket is left, and the next GET is byte-exact.
"""

import json
import os
import random
import signal
import socket
import ssl
import struct
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import env, make_target, tls_context
from test_locator import LocateTool
from test_offload import (Responders, gateway_after_gets, gateway_samples, grew, put_public, sha,
                          threshold)
from xohttp import build_request
from xometrics import responder_urls, scrape

MiB = 1024 * 1024
CLIENT_IP = "198.18.0.100"


pytestmark = pytest.mark.usefixtures("offload_on")


@pytest.fixture
def responders():
    return Responders()


def stall_timeout():
    return int(os.environ.get("XO_OFFLOAD_STALL_TIMEOUT", "10"))


def client_socket(timeout, rcvbuf=None):
    """A connection to xo-gateway over XO_SCHEME; @rcvbuf is set before connecting."""
    t = make_target("gateway")
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((t.host, t.port))
    return tls_context().wrap_socket(s, server_hostname=t.host) if t.https else s


def get_request(bucket, key):
    return build_request("GET", f"/{bucket}/{key}", {"Host": make_target("gateway").hostport})


def read_response(sock, limit=None):
    """(header bytes, body bytes) read from @sock until EOF or @limit body bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data, b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    want = length if limit is None else min(limit, length)
    while len(body) < want:
        chunk = sock.recv(min(1 << 20, want - len(body)))
        if not chunk:
            break
        body += chunk
    return head, body


# ---- what the daemons hold -------------------------------------------------------------------

def instance_pids():
    run = env("XO_RUN_DIR")
    pids = {"gateway": int(open(f"{run}/run/xo-gateway.pid").read())}
    for i in range(len(env("XO_OSD_NSES").split())):
        pids[f"responder{i}"] = int(open(f"{run}/run/xo-responder.{i}.pid").read())
    return pids


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def owned_map_ids(pid):
    """Ids of the BPF maps @pid holds a descriptor of (from /proc/<pid>/fdinfo)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-map":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                ids |= {int(l.split()[1]) for l in f if l.startswith("map_id:")}
        except OSError:
            continue
    return ids


OWNER_GONE = 1  # bpf/flow_maps.h XO_OWNER_GONE


def map_entries(name, pids):
    """Entries of the BPF maps called @name that one of @pids holds (map ids
    are global), less a dead gateway's REDIRECTs kept marked until they go
    idle (--flow-orphan-idle, test_restart.py): they are not this test's."""
    ids = set().union(*(owned_map_ids(p) for p in pids))
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                                     check=True).stdout)
    found = [m["id"] for m in maps if m.get("name") == name and m["id"] in ids]
    assert found, f"no map {name} held by {pids}"
    total = 0
    for map_id in found:
        dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)], capture_output=True,
                              text=True, check=True).stdout
        for e in json.loads(dump):
            owner = e.get("formatted", {}).get("value", {}).get("owner", {})
            total += not owner.get("flags", 0) & OWNER_GONE
    return total


def restored_sockets():
    """TCP connections to the client on the OSD hosts, other than control/metrics links."""
    count = 0
    for ns in env("XO_OSD_NSES").split():
        out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-tnH", "dst", CLIENT_IP], capture_output=True,
                             text=True, check=True).stdout
        count += len([l for l in out.splitlines() if l.strip()])
    return count


def leftovers():
    pids = instance_pids()
    return {
        "flows": map_entries("xo_gw_flows", [pids["gateway"]]),
        "rewrites": map_entries("xo_rsp_rewrites", [p for k, p in pids.items() if k != "gateway"]),
        "sockets": restored_sockets(),
        "serving": sum(scrape(u)[0].get("xo_responder_connections", 0) for u in responder_urls()),
    }


def wait_clean(timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = leftovers()
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


# ---- the tests -------------------------------------------------------------------------------

def abort_one(bucket, key, size, moment, rst, rng):
    """One GET given up at @moment; closed with RST if @rst, else FIN."""
    s = client_socket(30)
    try:
        s.sendall(get_request(bucket, key))
        t = threshold()
        if moment == "before_reading":
            pass
        elif moment == "in_gateway_bytes":
            read_response(s, rng.randrange(1, t))
        elif moment == "first_responder_bytes":
            read_response(s, t + rng.randrange(1, 256 * 1024))
        elif moment == "mid_body":
            read_response(s, rng.randrange(t, size))
        elif moment == "last_bytes":
            read_response(s, size - rng.randrange(1, 4096))
        elif moment == "while_returning":
            read_response(s)  # the whole body: the connection is on its way back
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


MOMENTS = ["before_reading", "in_gateway_bytes", "first_responder_bytes", "mid_body", "last_bytes",
           "while_returning"]


def test_aborted_downloads_cost_nothing_but_their_connection(s3_gw, public_bucket):
    """240 GETs given up at every moment of an offload, with FIN and with RST:
    every responder is the same process afterwards, nothing is left in the
    data plane or on the OSD hosts, and the object is still served exactly."""
    size = 9 * MiB + 123  # head + two tail stripes
    data = os.urandom(size)
    key = f"abort-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    before = instance_pids()
    rng = random.Random(8)
    plan = [(MOMENTS[i % len(MOMENTS)], (i // len(MOMENTS)) % 2 == 1) for i in range(240)]
    rng.shuffle(plan)
    with ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(abort_one, public_bucket, key, size, m, rst, random.Random(i))
                  for i, (m, rst) in enumerate(plan)]:
            f.result(timeout=120)
    left = wait_clean(timeout=stall_timeout() + 20)
    assert instance_pids() == before and all(alive(p) for p in before.values()), "a daemon died or restarted"
    assert not any(left.values()), left
    got = s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()
    assert sha(got) == sha(data)


def test_slow_client_outlasts_the_stall_timeout(s3_gw, public_bucket):
    """A client that reads slowly but steadily takes three stall timeouts for
    one offloaded GET and gets every byte: progress, not wall-clock time, decides."""
    stall = stall_timeout()
    size = 4 * MiB
    data = os.urandom(size)
    key = f"slow-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    rate = size / (3.5 * stall)  # bytes per second
    before = gateway_samples()
    s = client_socket(30, rcvbuf=32 * 1024)  # so the sender feels the slow reader
    started = time.monotonic()
    with s:
        s.sendall(get_request(public_bucket, key))
        head, body = read_response(s, threshold())
        assert head.startswith(b"HTTP/1.1 200"), head
        while len(body) < size:
            chunk = s.recv(min(16 * 1024, size - len(body)))
            assert chunk, f"connection closed after {len(body)} of {size} bytes"
            body += chunk
            ahead = len(body) / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    took = time.monotonic() - started
    assert took >= 3 * stall, took
    assert sha(body) == sha(data)
    after = gateway_after_gets(before, 1)
    assert grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1


def locate_host_index(responders, bucket, key):
    """Which responder serves @key (the index of its OSD host)."""
    tool = LocateTool(env("CEPH_CONF"))
    try:
        return responders.index_of(tool.ask_all([(bucket, key, "")])[0]["host"])
    finally:
        tool.close()


def streaming_from_its_responder(s3_gw, bucket, responders, prefix, timeout):
    """A 64 MiB GET whose client has read its first MiB from the responder:
    (size, data, key, responder index, pid, socket, body so far)."""
    size = 64 * MiB
    data = os.urandom(size)
    key = f"{prefix}-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, bucket, key, data)
    victim = locate_host_index(responders, bucket, key)
    s = client_socket(timeout, rcvbuf=64 * 1024)
    s.sendall(get_request(bucket, key))
    _, body = read_response(s, threshold() + MiB)
    return size, data, key, victim, responders.pid(victim), s, body


def test_stopped_responder_mid_stream_closes_the_client_promptly(s3_gw, public_bucket, responders):
    """SIGSTOP the responder while it streams: its kernel keeps the TCP session
    alive, but PROGRESS stops, and the gateway resets the client within the
    stall timeout (plus one probe round trip). Continued, it serves again."""
    size, data, key, victim, pid, s, body = streaming_from_its_responder(s3_gw, public_bucket, responders, "stop", 60)
    try:
        os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            got = len(body)
            while True:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, ssl.SSLError):  # over TLS a reset may end a record
                    break
                if not chunk:
                    break
                got += len(chunk)
            closed_after = time.monotonic() - stopped
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        s.close()
    assert got < size, "the transfer completed although its responder was stopped"
    assert closed_after <= stall_timeout() + 5, closed_after
    assert closed_after <= 15, closed_after
    assert alive(pid)
    assert not any(wait_clean(timeout=stall_timeout() + 20).values())
    assert sha(s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()) == sha(data)


def test_stopped_responder_with_an_offer_pending_falls_back(s3_gw, public_bucket, responders):
    """SIGSTOP the responder before a GET: the OFFER gets no READY, the gateway
    relays the rest itself and the client sees one normal response."""
    size = 2 * MiB + 5
    data = os.urandom(size)
    key = f"stopoffer-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    victim = locate_host_index(responders, public_bucket, key)
    pid = responders.pid(victim)
    s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()  # the gateway's link to it is up
    # ... and that connection is back on the gateway: stopped while it held a
    # kept-alive connection, the responder would lose it (a stall, not an offer).
    assert not any(wait_clean(timeout=10).values())
    before = gateway_samples()
    os.kill(pid, signal.SIGSTOP)
    try:
        body = s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert sha(body) == sha(data)
    after = gateway_after_gets(before, 1)
    fell_back = sum(v - before.get(n, 0) for n, v in after.items() if n.startswith('xo_offload_total{outcome="fallback"'))
    assert fell_back == 1
    assert not any(wait_clean(timeout=stall_timeout() + 20).values())


def test_go_after_the_responder_gave_up_resumes_on_the_gateway(s3_gw, public_bucket, responders):
    """A responder that does not wait for GO at all (--go-timeout-ms 0: every
    GO comes too late) closes each restored socket silently and says so
    (resumable ABORT); the gateway takes the connection back from the state it
    saved and relays the rest. Same bytes, no error, nothing lost, on one
    kept-alive connection, again and again."""
    keys = [f"late-{i}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    datas = {k: os.urandom(threshold() + 300_000 + i) for i, k in enumerate(keys)}
    for k in keys:
        put_public(s3_gw, public_bucket, k, datas[k])
    victim = locate_host_index(responders, public_bucket, keys[0])
    on_victim = [k for k in keys if locate_host_index(responders, public_bucket, k) == victim]
    responders.kill(victim)
    responders.start(victim, "--go-timeout-ms", "0")
    try:
        s3_gw.get_object(Bucket=public_bucket, Key=on_victim[0])["Body"].read()  # the link is up again
        before = gateway_samples()
        gets = 3 * len(on_victim)
        s = client_socket(30)
        with s:
            for k in on_victim * 3:
                s.sendall(get_request(public_bucket, k))
                head, body = read_response(s)
                assert head.startswith(b"HTTP/1.1 200") and sha(body) == sha(datas[k]), k
        after = gateway_after_gets(before, gets)
        assert grew(before, after, 'xo_offload_total{outcome="fallback",reason="late_go"}') == gets
        assert grew(before, after, 'xo_offload_total{outcome="lost"}') == 0
        assert not any(wait_clean(timeout=stall_timeout() + 20).values())
    finally:
        responders.kill(victim)
        responders.start(victim)


def test_access_log_counts_the_responders_bytes(s3_gw, public_bucket):
    """bytes_sent of an offloaded GET is the whole body: the gateway's share
    plus what the client acknowledged from the responder. (A GET that falls
    back, say while a restarted responder's link comes up, is relayed whole
    and counts the same; the next one is offloaded.)"""
    size = 3 * MiB + 11
    key = f"log-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, os.urandom(size))
    target = f"/{public_bucket}/{key}"
    for attempt in range(3):
        before = gateway_samples()
        s = client_socket(30)
        with s:
            s.sendall(get_request(public_bucket, key))
            _, body = read_response(s)
        assert len(body) == size
        after = gateway_after_gets(before, 1)
        if grew(before, after, 'xo_offload_total{outcome="offloaded"}') == 1:
            break
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(l) for l in open(env("XO_GATEWAY_ACCESS_LOG"))]
        lines = [l for l in lines if l["target"] == target and l["method"] == "GET"]
        if any(l["outcome"] == "offloaded" for l in lines) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all(l["bytes_sent"] == size for l in lines), lines
    assert any(l["outcome"] == "offloaded" for l in lines), lines


def test_responder_sigterm_cuts_its_connections_at_once(s3_gw, public_bucket, responders):
    """SIGTERM on a responder that is streaming: the client's connection is
    reset through the rewrite (not left silent), the responder exits cleanly
    and leaves no rewrite behind; started again, it serves."""
    size, data, key, victim, pid, s, body = streaming_from_its_responder(s3_gw, public_bucket, responders, "term", 30)
    try:
        os.kill(pid, signal.SIGTERM)
        signalled, got = time.monotonic(), len(body)
        try:
            while chunk := s.recv(65536):
                got += len(chunk)
        except (ConnectionResetError, ssl.SSLError):  # over TLS a reset may end a record
            pass
        cut_after = time.monotonic() - signalled
    finally:
        s.close()
    try:
        assert got < size and cut_after < 3, (got, cut_after)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "the responder did not exit on SIGTERM"
    finally:
        responders.start(victim)
    assert not any(wait_clean(timeout=stall_timeout() + 20).values())
    assert sha(s3_gw.get_object(Bucket=public_bucket, Key=key)["Body"].read()) == sha(data)


def test_a_responder_that_sends_nothing_gives_the_connection_back(s3_gw, public_bucket):
    """The responder's first read fails (part 2 of a multipart object is gone
    from RADOS): nothing of the range was sent, so instead of resetting the
    client it returns the connection marked unserved and the gateway relays.
    (radosgw cannot read the part either, so the client's body ends short;
    what is checked is who acted.)"""
    import rados

    part = 5 * MiB
    key = f"unserved-{uuid.uuid4().hex[:6]}"
    up = s3_gw.create_multipart_upload(Bucket=public_bucket, Key=key, ACL="public-read")["UploadId"]
    done = [{"ETag": s3_gw.upload_part(Bucket=public_bucket, Key=key, UploadId=up, PartNumber=n,
                                       Body=os.urandom(part))["ETag"], "PartNumber": n} for n in (1, 2)]
    s3_gw.complete_multipart_upload(Bucket=public_bucket, Key=key, UploadId=up, MultipartUpload={"Parts": done})
    cluster = rados.Rados(conffile=env("CEPH_CONF"), conf={"client_mount_timeout": "15"})
    cluster.connect(timeout=15)
    try:
        io = cluster.open_ioctx("default.rgw.buckets.data")
        gone = [o.key for o in io.list_objects() if o.key.endswith(f"__multipart_{key}.{up}.2")]
        assert len(gone) == 1, gone
        io.remove_object(gone[0])
        io.close()
    finally:
        cluster.shutdown()
    responders_before = {u: scrape(u)[0] for u in responder_urls()}
    before = gateway_samples()
    first = part - threshold()  # the gateway relays part 1's last bytes, the responder starts at part 2
    s = client_socket(30)
    with s:
        s.sendall(build_request("GET", f"/{public_bucket}/{key}",
                                {"Host": env("XO_S3_ENDPOINT")[7:], "Range": f"bytes={first}-"}))
        head, _ = read_response(s)
    assert head.startswith(b"HTTP/1.1 206"), head
    after = gateway_after_gets(before, 1)
    assert grew(before, after, 'xo_offload_total{outcome="fallback",reason="unserved"}') == 1
    assert grew(before, after, 'xo_offload_total{outcome="lost"}') == 0
    unserved = 'xo_responder_offers_total{outcome="unserved"}'
    assert sum(scrape(u)[0].get(unserved, 0) - responders_before[u].get(unserved, 0) for u in responder_urls()) == 1
