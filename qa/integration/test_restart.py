"""Daemon restarts, and what killed daemons leave in the kernel.

xo-gateway and xo-responder are killed with SIGKILL at the worst moments and
started again the way the cluster started them (`xo-vstart.sh start-gateway`,
`start-responder N`); their BPF maps are pinned in the cluster's bpffs, so
the new process finds what the old one left:

  - mid-handoff: the object's responder is stopped (SIGSTOP), so the gateway
    holds the client's flow BLOCKed waiting for READY; both are killed. The
    BLOCK outlives them in the pinned flow table until the restarted gateway
    sweeps it; a client reconnecting from the same source port gets the
    object byte-exact.
  - mid-transfer: both are killed while the responder sends. The restarted
    gateway keeps the dead gateway's REDIRECT (its transfer might still be
    running) but marks it, and the client's SYN from the same source port
    takes it out: the new connection gets the object byte-exact. The killed
    daemons' programs are replaced at their hooks and unloaded.
  - a transfer in flight while only the gateway restarts completes
    byte-exact (the pinned REDIRECT keeps carrying the client's ACKs to the
    responder); its entry is swept once idle.
  - a kept-alive client loses at most one request to a gateway restart
    between requests.

Entries are read with bpftool through the attached program's map (the pins
live in the cluster's bpffs, which this namespace does not show).
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest

import conftest
from conftest import REPO, env
from test_offload import (MiB, Responders, gateway_samples, gw_conn, put_public, raw_get, sha,
                          threshold)
from test_locator import LocateTool
from xohttp import ConnectionClosed, RawConn, build_request
from xometrics import responder_urls, scrape

VSTART = REPO / "vstart-scripts" / "xo-vstart.sh"
BPFTOOL = shutil.which("bpftool") or "/usr/sbin/bpftool"
BLOCK, REDIRECT, OWNER_GONE = 1, 2, 1
# Client ports outside the kernel's ephemeral range (32768-60999), so no other
# connection takes them between a test's two connections.
PORT_BASE = 61000 + os.getpid() % 2000


pytestmark = pytest.mark.usefixtures("offload_on")


@pytest.fixture(scope="module")
def locate():
    tool = LocateTool(env("CEPH_CONF"))
    yield lambda bucket, key: tool.ask_all([(bucket, key, "")])[0].get("host")
    tool.close()


def bpftool(*args, ns=None):
    """(exit status, parsed JSON output) of `bpftool -j args`, in netns @ns if given."""
    cmd = [BPFTOOL, "-j", *args]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return out.returncode, (json.loads(out.stdout) if out.stdout.strip() else None)


def attached(ns, kind, name):
    """Ids of the programs called @name at TC hook @kind of eth0 in @ns."""
    rc, net = bpftool("net", "show", "dev", "eth0", ns=ns)
    assert rc == 0, net
    return [f["id"] for f in net[0]["tc"] if f["kind"] == kind and f["name"].split(":")[0] == name]


def loaded(prog_id):
    return bpftool("prog", "show", "id", str(prog_id))[0] == 0


def flow_map(prog_id):
    """Id of the flow table the gateway program @prog_id uses."""
    rc, prog = bpftool("prog", "show", "id", str(prog_id))
    assert rc == 0
    for map_id in prog["map_ids"]:
        if bpftool("map", "show", "id", str(map_id))[1]["name"] == "xo_gw_flows":
            return map_id
    raise AssertionError(f"program {prog_id} has no xo_gw_flows map")


def flow_entry(map_id, client_port):
    """The flow table's value (BTF-formatted) for the client port, or None."""
    rc, entries = bpftool("map", "dump", "id", str(map_id))
    assert rc == 0
    for e in entries:
        key = [int(b, 16) for b in e["key"]]
        if key[4] << 8 | key[5] == client_port:  # sport, network order
            return e["formatted"]["value"]
    return None


def wait_for(what, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def exited(pid):
    """Whether every thread of @pid has exited (zombies have closed their files;
    a killed process's main thread may be one while others still exit)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    return False
        except (FileNotFoundError, ProcessLookupError):
            # The task was reaped between listdir and read (ESRCH once it is gone).
            continue
    return True


def gone(pid, timeout=10):
    """Wait until @pid has exited (see exited())."""
    return bool(wait_for(lambda: exited(pid), timeout))


class Gateway:
    """The instance's xo-gateway: kill -9 it, start it again as vstart did."""

    def __init__(self, main_gateway_pids):
        self.main = main_gateway_pids
        self.run = env("XO_RUN_DIR")
        self.ns = env("XO_GATEWAY_NS")

    def pid(self):
        with open(f"{self.run}/run/xo-gateway.pid") as f:
            return int(f.read())

    def running(self):
        return not exited(self.pid())

    def kill(self):
        # Until now the main gateway must not have restarted (test_zz_alive checks the rest).
        assert self.main <= conftest._gateway_pids(), "the gateway restarted before this test killed it"
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)

    def start(self, *args):
        run_env = dict(os.environ)
        run_env["XO_GATEWAY_ARGS"] = " ".join([os.environ.get("XO_GATEWAY_ARGS", ""), *args]).strip()
        out = subprocess.run([str(VSTART), "start-gateway"], capture_output=True, text=True, timeout=60, env=run_env)
        assert out.returncode == 0, out.stderr
        # This deliberate restart is the new baseline of "the gateway never restarted".
        self.main.clear()
        self.main.update(conftest._gateway_pids())

    def prog(self):
        ids = attached(self.ns, "clsact/ingress", "xo_gw_tc")
        assert len(ids) == 1, ids
        return ids[0]


@pytest.fixture
def gateway(main_gateway_pids):
    gw = Gateway(main_gateway_pids)
    yield gw
    if not gw.running():  # a failed test must not leave the suite without a gateway
        gw.start()


class KillableResponders(Responders):
    def kill(self, i):
        pid = self.pid(i)
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)


@pytest.fixture
def responders():
    r = KillableResponders()
    yield r
    for i in range(len(r.nses)):
        if exited(r.pid(i)):
            r.start(i)


def responder_prog(responders, i):
    ids = attached(responders.nses[i], "clsact/egress", "xo_rsp_egress")
    assert len(ids) == 1, ids
    return ids[0]


def get_request(bucket, key):
    return build_request("GET", f"/{bucket}/{key}", {"Host": env("XO_S3_ENDPOINT")[7:]})


def s3_host_port():
    host, port = env("XO_S3_ENDPOINT")[7:].split(":")
    return host, int(port)


def read_relayed_part(conn):
    """The header and the first T body bytes, which the gateway relays itself before it hands off."""
    received = b""
    while len(received) < threshold():
        chunk = conn.sock.recv(1 << 20)
        assert chunk, "the gateway closed the connection"
        received += chunk
    return received


def test_both_killed_mid_handoff(s3_gw, public_bucket, locate, responders, gateway):
    data = os.urandom(4 * threshold() + 11)
    key = f"mid-handoff-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    victim = responders.index_of(locate(public_bucket, key))
    port = PORT_BASE
    flows = flow_map(gateway.prog())
    # Every worker's control channel to the responder is open first: a stopped
    # responder could not complete a new channel's handshake (no handoff at all).
    for _ in range(8):
        with gw_conn() as warm:
            assert sha(raw_get(warm, public_bucket, key).body) == sha(data)
    stopped = responders.pid(victim)
    os.kill(stopped, signal.SIGSTOP)  # the OFFER gets no READY: the flow stays BLOCKed
    try:
        conn = RawConn(*s3_host_port(), timeout=10, source_port=port)
        conn.send(get_request(public_bucket, key))
        assert read_relayed_part(conn).startswith(b"HTTP/1.1 200")
        entry = wait_for(lambda: flow_entry(flows, port), timeout=2)
        assert entry and entry["action"] == BLOCK, entry
        gateway.kill()
        responders.kill(victim)
        # The BLOCK outlives its owner (pinned), and so does the killed
        # gateway's program on the NIC, which still drops the flow's packets.
        assert flow_entry(flows, port)["action"] == BLOCK
        conn.reset()
    finally:
        if not exited(stopped):  # the test failed before killing it
            os.kill(stopped, signal.SIGCONT)
    gateway.start()
    responders.start(victim)
    assert flow_entry(flow_map(gateway.prog()), port) is None
    assert gateway_samples().get('xo_flow_table_swept_total{reason="dead_block"}', 0) >= 1
    with RawConn(*s3_host_port(), timeout=30, source_port=port) as again:
        r = raw_get(again, public_bucket, key)
        assert r.status == 200 and sha(r.body) == sha(data)


def test_both_killed_mid_transfer(s3_gw, public_bucket, locate, responders, gateway):
    data = os.urandom(48 * MiB)
    key = f"mid-transfer-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    victim = responders.index_of(locate(public_bucket, key))
    port = PORT_BASE + 1
    old_gateway_prog, old_responder_prog = gateway.prog(), responder_prog(responders, victim)
    flows = flow_map(old_gateway_prog)
    conn = RawConn(*s3_host_port(), timeout=10, source_port=port)
    conn.send(get_request(public_bucket, key))
    assert read_relayed_part(conn).startswith(b"HTTP/1.1 200")  # then stop reading: the responder is mid-body
    entry = wait_for(lambda: (flow_entry(flows, port) or {}).get("action") == REDIRECT, timeout=5)
    assert entry, flow_entry(flows, port)
    gateway.kill()
    responders.kill(victim)
    conn.reset()
    gateway.start()  # default --flow-orphan-idle: the dead gateway's REDIRECT is kept, marked
    responders.start(victim)

    orphan = flow_entry(flows, port)
    assert orphan and orphan["action"] == REDIRECT and orphan["owner"]["flags"] & OWNER_GONE, orphan
    assert gateway_samples().get("xo_flow_table_orphans", 0) >= 1
    # The killed daemons' programs were replaced at their hooks and are gone from the kernel.
    assert gateway.prog() != old_gateway_prog and not loaded(old_gateway_prog)
    assert responder_prog(responders, victim) != old_responder_prog and not loaded(old_responder_prog)
    assert flow_map(gateway.prog()) == flows  # the pinned table was reused
    # The restarted responder removed its predecessor's rewrites (its sockets died with it).
    swept = scrape(responder_urls()[victim])[0].get("xo_responder_rewrites_swept_total", 0)
    assert swept >= 1

    # The client's SYN from the same port takes the orphan out and reaches the gateway.
    with RawConn(*s3_host_port(), timeout=30, source_port=port) as again:
        r = raw_get(again, public_bucket, key)
        assert r.status == 200 and sha(r.body) == sha(data)
    assert wait_for(lambda: flow_entry(flows, port) is None, timeout=5)


def read_body_slowly(conn, rate, out):
    """Read one response from @conn at about @rate bytes/s into out['body'] (or out['error'])."""
    try:
        status = conn.rfile.readline()
        length = None
        while True:
            line = conn.rfile.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        out["status"] = status
        body = bytearray()
        start = time.monotonic()
        while len(body) < length:
            chunk = conn.rfile.read(min(256 * 1024, length - len(body)))
            if not chunk:
                break
            body += chunk
            ahead = len(body) / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        out["body"] = bytes(body)
    except OSError as e:
        out["error"] = repr(e)


def test_transfer_in_flight_survives_a_gateway_restart(s3_gw, public_bucket, gateway):
    data = os.urandom(32 * MiB)
    key = f"in-flight-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    flows = flow_map(gateway.prog())
    conn = gw_conn()
    port = conn.local_addr()[1]
    got = {}
    conn.send(get_request(public_bucket, key))
    reader = threading.Thread(target=read_body_slowly, args=(conn, 6 * MiB, got))  # ~5 s
    reader.start()
    try:
        assert wait_for(lambda: (flow_entry(flows, port) or {}).get("action") == REDIRECT, timeout=5)
        time.sleep(0.5)
        gateway.kill()
        time.sleep(0.5)  # the client keeps reading from the responder meanwhile
        gateway.start("--flow-orphan-idle", "8", "--flow-sweep-interval", "1")
        assert gateway_samples().get("xo_flow_table_orphans", 0) >= 1  # kept: it moves
    finally:
        reader.join(timeout=60)
        conn.close()
    assert got.get("status", b"").startswith(b"HTTP/1.1 200"), got.get("error")
    assert len(got.get("body", b"")) == len(data) and sha(got["body"]) == sha(data), got.get("error")
    # Its connection cannot come back to the new gateway: the responder resets
    # it once the client has everything; the entry then idles out.
    assert wait_for(lambda: flow_entry(flows, port) is None, timeout=20, step=0.5)
    samples = gateway_samples()
    assert samples.get('xo_flow_table_swept_total{reason="idle_orphan"}', 0) >= 1
    assert samples.get("xo_flow_table_orphans", 0) == 0


def test_kept_alive_client_loses_at_most_one_request_to_a_gateway_restart(s3_gw, public_bucket, gateway):
    data = os.urandom(2 * threshold() + 3)
    key = f"keepalive-{uuid.uuid4().hex[:6]}"
    put_public(s3_gw, public_bucket, key, data)
    conn = gw_conn()
    try:
        r = raw_get(conn, public_bucket, key)
        assert r.status == 200 and sha(r.body) == sha(data)
        gateway.kill()
        gateway.start()
        failed, served = 0, 0
        for _ in range(4):
            try:
                r = raw_get(conn, public_bucket, key)
            except (OSError, ConnectionClosed):
                failed += 1
                conn.close()
                conn = gw_conn()
                continue
            assert r.status == 200 and sha(r.body) == sha(data)
            served += 1
        assert failed <= 1 and served >= 3, (failed, served)
    finally:
        conn.close()
