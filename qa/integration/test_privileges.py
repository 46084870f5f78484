"""The XO daemons' privileges as xo-vstart.sh starts them: user xo, exactly
the capabilities each needs, no_new_privs, no core dumps; their secrets
0600 and readable by them alone; and offload still works that way."""

import glob
import grp
import os
import pwd
import stat

import pytest
import rados

import xometrics

XO_USER = "xo"
CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_BPF = 10, 12, 39
RESPONDER_CAPS = (1 << CAP_NET_ADMIN) | (1 << CAP_BPF)
GATEWAY_CAPS = RESPONDER_CAPS | (1 << CAP_NET_BIND_SERVICE)


def run_dir():
    d = os.environ.get("XO_RUN_DIR")
    if not d:
        pytest.fail("XO_RUN_DIR not set (eval \"$(xo-vstart.sh env)\")")
    return d


def daemons():
    """[(name, pid, expected capabilities)] of the gateway and every responder, from vstart's pid files."""
    found = []
    for path in sorted(glob.glob(os.path.join(run_dir(), "run", "xo-*.pid"))):
        name = os.path.basename(path)[:-len(".pid")]
        with open(path) as f:
            pid = int(f.read())
        found.append((name, pid, GATEWAY_CAPS if name == "xo-gateway" else RESPONDER_CAPS))
    names = [d[0] for d in found]
    assert "xo-gateway" in names and any(n.startswith("xo-responder.") for n in names), names
    return found


def status(pid):
    """/proc/@pid/status as {field: value}."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


@pytest.fixture(scope="module")
def xo_ids():
    try:
        return pwd.getpwnam(XO_USER).pw_uid, grp.getgrnam(XO_USER).gr_gid
    except KeyError:
        pytest.fail(f"no user {XO_USER} (scripts/install-deps.sh creates it)")


def test_daemons_run_as_xo_with_their_capabilities_only(xo_ids):
    uid, gid = xo_ids
    for name, pid, caps in daemons():
        st = status(pid)
        assert st["Uid"].split() == [str(uid)] * 4, (name, st["Uid"])
        assert st["Gid"].split() == [str(gid)] * 4, (name, st["Gid"])
        assert st["Groups"].split() == [], (name, st["Groups"])
        for field in ("CapPrm", "CapEff", "CapBnd"):
            assert int(st[field], 16) == caps, (name, field, st[field], hex(caps))
        assert st["NoNewPrivs"] == "1", name


def test_daemons_cannot_dump_core(xo_ids):
    """RLIMIT_CORE 0 (soft and hard), and not dumpable: the kernel then shows
    the process's /proc entries as root's although it runs as xo."""
    uid, _ = xo_ids
    for name, pid, _ in daemons():
        with open(f"/proc/{pid}/limits") as f:
            core = [line.split() for line in f if line.startswith("Max core file size")]
        assert core and core[0][4:6] == ["0", "0"], (name, core)
        assert status(pid)["Uid"].split()[1] == str(uid), name
        assert os.stat(f"/proc/{pid}/status").st_uid == 0, f"{name} is dumpable"
        assert os.stat(f"/proc/{pid}/environ").st_uid == 0, f"{name} is dumpable"


def test_secrets_are_0600_and_the_daemons_read_only_theirs(xo_ids):
    uid, gid = xo_ids
    run = run_dir()
    keys = os.environ.get("XO_KEYS_DIR") or pytest.fail("XO_KEYS_DIR not set")
    theirs, dirs = glob.glob(os.path.join(run, "xo", "*.keyring")), [os.path.join(run, "xo")]
    assert len(theirs) == 2, theirs  # the gateway's and the responders' cephx keys
    for root, subdirs, files in os.walk(keys):
        dirs.append(root)
        theirs += [os.path.join(root, f) for f in files]
    assert len(theirs) > 4, theirs  # + the ticket key, each responder's channel key and the gateway's copies
    tls = os.environ.get("XO_TLS_DIR") or pytest.fail("XO_TLS_DIR not set")
    theirs.append(os.path.join(tls, "server.key"))  # the gateway's TLS key (radosgw direct, root, reads it too)
    for path in theirs:
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600 and (st.st_uid, st.st_gid) == (uid, gid), path
    for path in dirs:
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o700 and (st.st_uid, st.st_gid) == (uid, gid), path
    others = [os.path.join(run, "keyring"), os.path.join(run, "mon.keyring")] + \
        glob.glob(os.path.join(run, "*", "keyring")) + [os.path.join(tls, "ca.key")]
    assert len(others) >= 7, others  # admin, mon bootstrap, mon, two radosgw, the OSDs, the test CA's key
    for path in others:
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, (path, oct(st.st_mode), st.st_uid)


def test_offload_as_xo(s3_gw, bucket_gw):
    """A GET above the threshold is sent by a responder, byte-exact."""
    threshold = int(os.environ.get("XO_OFFLOAD_THRESHOLD", "1048576"))
    url = os.environ.get("XO_GATEWAY_METRICS")
    if not url:
        pytest.fail("XO_GATEWAY_METRICS not set")
    key = 'xo_offload_total{outcome="offloaded"}'
    before = xometrics.scrape(url)[0].get(key, 0)
    data = os.urandom(threshold + 12345)
    s3_gw.put_object(Bucket=bucket_gw, Key="as-xo", Body=data)
    assert s3_gw.get_object(Bucket=bucket_gw, Key="as-xo")["Body"].read() == data
    after = xometrics.scrape_until(url, lambda s: s.get(key, 0) > before)
    assert after.get(key, 0) == before + 1


def test_cephx_users_of_the_daemons_only_read(bucket_gw):
    """client.xo-gateway reads bucket entrypoints (namespace root of the meta
    pool), neither of them the S3 users' records with their secret keys
    (users.uid) nor writes anything."""
    conf = os.environ.get("CEPH_CONF")
    if not conf:
        pytest.fail("CEPH_CONF not set")
    user = "xo-test"  # vstart's first S3 user

    def attempt(name, pool, nspace, op):
        c = rados.Rados(conffile=conf, name=name)
        c.connect(timeout=20)
        try:
            io = c.open_ioctx(pool)
            io.set_namespace(nspace)
            try:
                op(io)
                return "allowed"
            except rados.PermissionError:
                return "denied"
            finally:
                io.close()
        finally:
            c.shutdown()

    def read(oid):
        return lambda io: io.read(oid, 4096)

    meta, data = "default.rgw.meta", "default.rgw.buckets.data"
    assert attempt("client.admin", meta, "users.uid", read(user)) == "allowed"  # the record exists
    assert attempt("client.xo-gateway", meta, "root", read(bucket_gw)) == "allowed"
    for name in ("client.xo-gateway", "client.xo-responder"):
        assert attempt(name, meta, "users.uid", read(user)) == "denied", name
        assert attempt(name, data, "", lambda io: io.write_full("xoit-priv", b"x")) == "denied", name
    assert attempt("client.xo-responder", meta, "root", read(bucket_gw)) == "denied"
