"""HTTPS with real clients, xo-gateway (:443) beside radosgw's own TLS (:8443).

Every client trusts only the cluster's test CA (XO_CA_FILE) and checks the
certificate's address. Parametrised over `https_target` (gateway, rgw):
byte-exact PUT/GET with boto3, s3cmd and aws-cli; curl with each TLS 1.2
ECDHE AEAD suite and each TLS 1.3 suite; `openssl s_client` with a 512-byte
maximum fragment length and with a KeyUpdate between two requests of one
connection; gnutls-cli as a second TLS stack; keep-alive across objects on
different hosts and 1,000 sequential GETs on one connection.

The gateway's TLS policy (`gw_https` only; radosgw's differs): TLS 1.1 and
CBC suites are refused, renegotiation is refused, 0-RTT is not offered,
sessions resume (TLS 1.2 and 1.3), and SIGHUP reloads the certificate for
new connections while existing ones keep working.

The object bodies are larger than the offload threshold, so through the
gateway the same connection moves to the responders and back.
"""

import concurrent.futures
import hashlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import empty_and_delete, env, make_target, unique, write_s3cmd_cfg
from test_handoff_keys import assert_nowhere
from test_offload import locate  # noqa: F401 -- a fixture of this module too
from xohttp import build_request, read_response
from xometrics import responder_sent

KiB, MiB = 1024, 1024 * 1024
TLS12_SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-CHACHA20-POLY1305"]   # the test certificate's key is EC P-256
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
CLIENT_TIMEOUT = 120


def sha(data):
    return hashlib.sha256(data).hexdigest()


def threshold():
    return int(os.environ.get("XO_OFFLOAD_THRESHOLD", "1048576"))


def big_size(extra=0):
    """A body the gateway offloads (larger than the threshold), a few records long."""
    return max(threshold(), 64 * KiB) + 150_000 + extra


def run(cmd, stdin=None, timeout=CLIENT_TIMEOUT, check=True):
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} -> {p.returncode}\nstderr: {p.stderr.decode(errors='replace')[-3000:]}")
    return p


def get_request(t, bucket, key, close=True):
    headers = {"Host": t.hostport}
    if close:
        headers["Connection"] = "close"
    return build_request("GET", f"/{bucket}/{key}", headers)


@pytest.fixture
def https_bucket(s3_https, rgw_admin_s3):
    """A public-read bucket created over HTTPS through the target: raw TLS clients GET without signing."""
    name = unique("xotls")
    s3_https.create_bucket(Bucket=name, ACL="public-read")
    yield name
    empty_and_delete(rgw_admin_s3, name)


def put_public(s3, bucket, key, data):
    s3.put_object(Bucket=bucket, Key=key, Body=data, ACL="public-read")


@pytest.fixture
def big_object(s3_https, https_bucket):
    """(bucket, key, body) of a public offloadable object on the `https_target`."""
    data = os.urandom(big_size())
    put_public(s3_https, https_bucket, "big", data)
    return https_bucket, "big", data


@pytest.fixture
def gw_big_object(s3_gw_https, rgw_admin_s3):
    """The same for the gateway-only tests."""
    name = unique("xotls")
    s3_gw_https.create_bucket(Bucket=name, ACL="public-read")
    data = os.urandom(big_size())
    put_public(s3_gw_https, name, "big", data)
    yield name, "big", data
    empty_and_delete(rgw_admin_s3, name)


class Interactive:
    """A TLS command-line client (s_client, gnutls-cli) whose stdin stays open:
    requests and commands are written one by one, responses read from its
    stdout as HTTP; stderr goes to a file."""

    def __init__(self, cmd, tmp_path):
        self.err_path = tmp_path / f"stderr-{uuid.uuid4().hex[:6]}"
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err)

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def response(self):
        return read_response(self.proc.stdout)

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def finish(self, timeout=CLIENT_TIMEOUT):
        """Close stdin, wait for the exit; returns (exit code, rest of stdout)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rest = self.proc.stdout.read()
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"{self.proc.args[0]} did not exit within {timeout} s\n{self.stderr()[-2000:]}")
        self._err.close()
        return code, rest

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._err.close()


def s_client_args(t, *extra):
    return ["openssl", "s_client", "-connect", f"{t.host}:{t.port}", "-CAfile", env("XO_CA_FILE"),
            "-verify_return_error", "-verify_ip", t.host, *extra]


def s_client(t, *extra, stdin=b"", check=False, timeout=30):
    """One s_client run; stdin ends it (no commands). Returns (code, stdout+stderr text)."""
    p = run(s_client_args(t, *extra), stdin=stdin, timeout=timeout, check=check)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


# ---------------------------------------------------------------- S3 clients

@pytest.mark.parametrize("size", [0, 1 * KiB, None], ids=["0B", "1KiB", "offloadable"])
def test_boto3_put_get_exact(s3_https, https_bucket, size):
    data = os.urandom(big_size() if size is None else size)
    s3_https.put_object(Bucket=https_bucket, Key="o", Body=data)
    got = s3_https.get_object(Bucket=https_bucket, Key="o")
    assert got["ContentLength"] == len(data) and sha(got["Body"].read()) == sha(data)
    first, last = len(data) // 3, len(data) - 2
    if len(data) > 3:
        part = s3_https.get_object(Bucket=https_bucket, Key="o", Range=f"bytes={first}-{last}")
        assert part["Body"].read() == data[first:last + 1]


def test_s3cmd_put_get_exact(https_target, creds, tmp_path_factory, https_bucket, tmp_path):
    cfg = write_s3cmd_cfg(https_target, creds, tmp_path_factory)
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = os.urandom(big_size(7))
    src.write_bytes(data)
    base = ["s3cmd", "-c", cfg, "--no-progress"]
    run(base + ["put", str(src), f"s3://{https_bucket}/s3cmd"])
    run(base + ["get", f"s3://{https_bucket}/s3cmd", str(dst)])
    assert sha(dst.read_bytes()) == sha(data)


def test_s3cmd_refuses_a_certificate_it_does_not_trust(https_target, creds, tmp_path_factory, tmp_path):
    """The client configs really verify: without the test CA, s3cmd fails."""
    cfg = write_s3cmd_cfg(https_target, creds, tmp_path_factory)
    text = open(cfg).read().replace(env("XO_CA_FILE"), "/etc/ssl/certs/ca-certificates.crt")
    untrusting = tmp_path / "s3cfg"
    untrusting.write_text(text)
    p = run(["s3cmd", "-c", str(untrusting), "--no-progress", "ls"], check=False)
    assert p.returncode != 0 and b"CERTIFICATE_VERIFY_FAILED" in p.stderr + p.stdout


def aws(t, *args):
    # Debian's aws-cli 2.9 takes the CA from AWS_CA_BUNDLE (vstart's env), not its config file.
    return run(["/usr/bin/aws", "--endpoint-url", t.url, *args],
               stdin=b"", check=True, timeout=CLIENT_TIMEOUT)


def test_awscli_put_get_exact(https_target, https_bucket, tmp_path):
    if not shutil.which("/usr/bin/aws"):
        pytest.skip("SKIPPED: /usr/bin/aws missing (scripts/install-deps.sh installs awscli)")
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = os.urandom(big_size(11))
    src.write_bytes(data)
    aws(https_target, "s3", "cp", "--only-show-errors", str(src), f"s3://{https_bucket}/aws")
    aws(https_target, "s3", "cp", "--only-show-errors", f"s3://{https_bucket}/aws", str(dst))
    assert sha(dst.read_bytes()) == sha(data)
    p = aws(https_target, "s3api", "head-object", "--bucket", https_bucket, "--key", "aws")
    assert str(len(data)).encode() in p.stdout


# ---------------------------------------------------------------- curl, suite by suite

def curl_get(t, bucket, key, out, *tls_args):
    p = run(["curl", "-sS", "-v", "--cacert", env("XO_CA_FILE"), "-o", str(out), "-w", "%{http_code}",
             *tls_args, f"{t.url}/{bucket}/{key}"])
    return p.stdout.decode(), p.stderr.decode(errors="replace")


@pytest.mark.parametrize("suite", TLS12_SUITES)
def test_curl_tls12_suites(https_target, big_object, tmp_path, suite):
    bucket, key, data = big_object
    out = tmp_path / "body"
    code, log = curl_get(https_target, bucket, key, out, "--tls-max", "1.2", "--ciphers", suite)
    assert code == "200" and f"SSL connection using TLSv1.2 / {suite}" in log, log[-1500:]
    assert sha(out.read_bytes()) == sha(data)


@pytest.mark.parametrize("suite", TLS13_SUITES)
def test_curl_tls13_suites(https_target, big_object, tmp_path, suite):
    bucket, key, data = big_object
    out = tmp_path / "body"
    code, log = curl_get(https_target, bucket, key, out, "--tlsv1.3", "--tls13-ciphers", suite)
    assert code == "200" and f"SSL connection using TLSv1.3 / {suite}" in log, log[-1500:]
    assert sha(out.read_bytes()) == sha(data)


def test_curl_keep_alive_several_urls(https_target, s3_https, https_bucket, tmp_path):
    """One curl, several URLs: one TLS connection carries them all."""
    datas = {f"k{i}": os.urandom(big_size(i)) for i in range(3)}
    for k, d in datas.items():
        put_public(s3_https, https_bucket, k, d)
    args = ["curl", "-sS", "-v", "--cacert", env("XO_CA_FILE")]
    for k in datas:
        args += ["-o", str(tmp_path / k), f"{https_target.url}/{https_bucket}/{k}"]
    p = run(args)
    log = p.stderr.decode(errors="replace")
    assert log.count("SSL connection using") == 1, log[-2000:]
    for k, d in datas.items():
        assert sha((tmp_path / k).read_bytes()) == sha(d), k


# ---------------------------------------------------------------- openssl s_client, gnutls-cli

def test_s_client_max_fragment_length_512(https_target, big_object, tmp_path):
    """-maxfraglen 512: every record the server sends must fit 512 bytes, or
    OpenSSL's client fails the connection ("data length too long")."""
    bucket, key, data = big_object
    _, out = s_client(https_target, "-maxfraglen", "512", "-tlsextdebug")
    assert 'TLS server extension "max fragment length"' in out, out[-1500:]   # accepted, so binding
    with Interactive(s_client_args(https_target, "-quiet", "-maxfraglen", "512"), tmp_path) as c:
        c.write(get_request(https_target, bucket, key))
        r = c.response()
        code, _ = c.finish()
        assert r.status == 200 and sha(r.body) == sha(data), (r.status, c.stderr()[-1500:])
        assert code == 0, c.stderr()[-1500:]


@pytest.mark.parametrize("command", ["K", "k"], ids=["update_requested", "update_not_requested"])
def test_s_client_key_update_between_requests(https_target, big_object, tmp_path, command):
    """A client KeyUpdate between two GETs of one keep-alive connection; with
    update_requested the server answers with a KeyUpdate of its own."""
    bucket, key, data = big_object
    msgs = tmp_path / "msgs"
    args = s_client_args(https_target, "-quiet", "-no_ign_eof", "-tls1_3", "-msg", "-msgfile", str(msgs))
    with Interactive(args, tmp_path) as c:
        c.write(get_request(https_target, bucket, key, close=False))
        first = c.response()
        c.write(command.encode() + b"\n")   # s_client's command: send KeyUpdate (K: requesting one back)
        time.sleep(0.3)   # its own read(): the command must not share a read with the request
        c.write(get_request(https_target, bucket, key, close=False))
        second = c.response()
        c.write(get_request(https_target, bucket, key))
        third = c.response()
        c.finish()
        assert "KEYUPDATE" in c.stderr(), c.stderr()[-1500:]
        for r in (first, second, third):
            assert r.status == 200 and sha(r.body) == sha(data), (r.status, c.stderr()[-1500:])
    lines = msgs.read_text(errors="replace").splitlines()
    sent = [m for m in lines if m.startswith(">>>") and m.endswith("KeyUpdate")]
    received = [m for m in lines if m.startswith("<<<") and m.endswith("KeyUpdate")]
    assert len(sent) == 1 and len(received) == (1 if command == "K" else 0), (sent, received)


def test_gnutls_cli_get_exact(https_target, big_object, tmp_path):
    """GnuTLS as a second client stack (its own record layer, its own checks)."""
    bucket, key, data = big_object
    if not shutil.which("gnutls-cli"):
        pytest.skip("SKIPPED: gnutls-cli missing (scripts/install-deps.sh installs gnutls-bin)")
    log = tmp_path / "gnutls.log"
    for prio in ("NORMAL:-VERS-ALL:+VERS-TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.2"):
        cmd = ["gnutls-cli", "--x509cafile", env("XO_CA_FILE"), "--priority", prio, "--logfile", str(log),
               "-p", str(https_target.port), https_target.host]
        with Interactive(cmd, tmp_path) as c:
            c.write(get_request(https_target, bucket, key, close=False))
            first = c.response()
            c.write(get_request(https_target, bucket, key))
            second = c.response()
            c.finish()
            text = log.read_text(errors="replace")
            assert "The certificate is trusted" in text, text[-1500:]
            for r in (first, second):
                assert r.status == 200 and sha(r.body) == sha(data), (prio, r.status, text[-1500:])


# ---------------------------------------------------------------- one connection, many objects

def keys_on_every_host(s3, bucket, locate, per_host):
    """@per_host object names in @bucket on each OSD host, interleaved host by
    host. Placement is by name, so tiny placeholders are put and located, and
    the chosen names are overwritten later (same name, same host)."""
    n_hosts = len(env("XO_OSD_NSES").split())
    candidates = [f"spread-{i}" for i in range(6 * per_host * n_hosts)]   # P(a host gets < per_host) < 1e-4
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"."), candidates))
    by_host = {}
    for k, host in zip(candidates, locate(bucket, candidates)):
        assert host, f"{k} not located"
        by_host.setdefault(host, []).append(k)
    assert len(by_host) == n_hosts and all(len(v) >= per_host for v in by_host.values()), by_host
    return [k for group in zip(*(v[:per_host] for v in by_host.values())) for k in group], set(by_host)


def served_by_responders(sent_before):
    """Hosts whose responder sent body bytes since @sent_before (gateway with offload only)."""
    after = responder_sent()
    return {h for h in after if after[h] > sent_before.get(h, 0)}


def offloading(https_target):
    return https_target.name == "gateway" and os.environ.get("XO_RESPONDER_METRICS", "").split()


def test_keep_alive_across_hosts(https_target, s3_https, https_bucket, locate):
    """Objects whose primaries are on different hosts, one after another on one
    TLS connection (through the gateway: each from its responder and back)."""
    keys, hosts = keys_on_every_host(s3_https, https_bucket, locate, 3)
    datas = {k: os.urandom(big_size(i)) for i, k in enumerate(keys)}
    for k in keys:
        put_public(s3_https, https_bucket, k, datas[k])
    sent_before = responder_sent() if offloading(https_target) else None
    with https_target.conn() as conn:
        port = conn.local_addr()[1]
        for k in keys + keys[:3]:
            conn.send(get_request(https_target, https_bucket, k, close=False))
            r = conn.response()
            assert r.status == 200 and sha(r.body) == sha(datas[k]), (k, r.status)
        assert conn.local_addr()[1] == port
    if sent_before is not None:
        assert served_by_responders(sent_before) == hosts


def test_thousand_gets_on_one_connection(https_target, s3_https, https_bucket, locate):
    """1,000 sequential GETs of offloadable objects on ONE TLS connection
    (http.client over ssl), spread over every OSD host, byte-exact, bounded in time."""
    gets, budget = 1000, 600
    keys, hosts = keys_on_every_host(s3_https, https_bucket, locate, 4)
    n_objects = len(keys)
    datas = {k: os.urandom(threshold() + 1 + 4099 * i) for i, k in enumerate(keys)}
    digests = {k: sha(d) for k, d in datas.items()}
    for k, d in datas.items():
        put_public(s3_https, https_bucket, k, d)
    sent_before = responder_sent() if offloading(https_target) else None
    conn = https_target.http_connection(timeout=60)
    start = time.monotonic()
    try:
        conn.connect()
        sock = conn.sock
        for i in range(gets):
            k = keys[i % n_objects]
            conn.request("GET", f"/{https_bucket}/{k}", headers={"Host": https_target.hostport})
            r = conn.getresponse()
            body = r.read()
            assert r.status == 200 and sha(body) == digests[k], (i, k, r.status)
            # http.client reconnects silently: the socket must be the first one, still open.
            assert conn.sock is sock and not r.will_close, f"connection replaced or closing after GET {i}"
            assert time.monotonic() - start < budget, f"{i} GETs took over {budget} s"
    finally:
        conn.close()
    print(f"{gets} GETs on one TLS connection in {time.monotonic() - start:.1f} s")
    if sent_before is not None:
        assert served_by_responders(sent_before) == hosts


# ---------------------------------------------------------------- the gateway's TLS policy

def test_tls11_refused(gw_https):
    # SECLEVEL=0: without it OpenSSL 3's client would not even offer TLS 1.1.
    code, out = s_client(gw_https, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert code != 0 and "Cipher is (NONE)" in out, out[-1500:]


def test_cbc_only_client_refused(gw_https):
    code, out = s_client(gw_https, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
    assert code != 0 and "Cipher is (NONE)" in out, out[-1500:]


def test_tls12_aead_with_a_cbc_preference_gets_aead(gw_https):
    """A client preferring CBC but offering GCM too is served GCM."""
    code, out = s_client(gw_https, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in out, out[-1500:]


def test_renegotiation_refused(gw_https, gw_big_object, tmp_path):
    """TLS 1.2, then s_client's 'R': no second handshake completes; the
    connection fails or the request after it is refused."""
    bucket, key, _ = gw_big_object
    msgs = tmp_path / "msgs"
    args = s_client_args(gw_https, "-quiet", "-no_ign_eof", "-tls1_2", "-msg", "-msgfile", str(msgs))
    with Interactive(args, tmp_path) as c:
        c.write(b"R\n")
        time.sleep(1)
        try:
            c.write(get_request(gw_https, bucket, key))
            r = c.response()
        except Exception:   # broken pipe, closed: refused by closing
            r = None
        c.finish()
    hellos = [line for line in msgs.read_text(errors="replace").splitlines()
              if line.startswith("<<<") and line.endswith("ServerHello")]
    assert len(hellos) == 1, hellos
    assert "RENEGOTIATING" in c.stderr(), c.stderr()[-1500:]
    assert r is None or r.status == 200


def test_no_early_data(gw_https, tmp_path):
    """0-RTT is off: the tickets allow no early data and a client that tries sends none."""
    sess, early = tmp_path / "sess.pem", tmp_path / "early"
    early.write_bytes(build_request("GET", "/", {"Host": gw_https.hostport}))
    req = build_request("GET", "/", {"Host": gw_https.hostport, "Connection": "close"})
    _, out = s_client(gw_https, "-tls1_3", "-ign_eof", "-sess_out", str(sess), stdin=req)
    assert sess.exists(), out[-1500:]
    assert "Max Early Data: 0" in out, out[-1500:]
    _, out = s_client(gw_https, "-tls1_3", "-ign_eof", "-sess_in", str(sess), "-early_data", str(early), stdin=req)
    assert "Early data was accepted" not in out
    assert "Early data was not sent" in out or "Early data was rejected" in out, out[-1500:]


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_session_resumption(gw_https, tmp_path, version):
    sess = tmp_path / "sess.pem"
    req = build_request("GET", "/", {"Host": gw_https.hostport, "Connection": "close"})
    _, out = s_client(gw_https, version, "-ign_eof", "-sess_out", str(sess), stdin=req)
    assert re.search(r"^New, TLSv1\.[23]", out, re.M), out[-1500:]
    _, out = s_client(gw_https, version, "-ign_eof", "-sess_in", str(sess), stdin=req)
    assert re.search(r"^Reused, TLSv1\.[23]", out, re.M), out[-1500:]
    assert "HTTP/1.1 200" in out, out[-1500:]


# ---------------------------------------------------------------- certificate reload

def serial_of(pem_path):
    p = run(["openssl", "x509", "-in", str(pem_path), "-noout", "-serial"])
    return p.stdout.decode().strip().split("=", 1)[1].upper()


def served_serial(t):
    _, out = s_client(t, "-showcerts", stdin=b"")
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    assert pem, out[-1500:]
    p = run(["openssl", "x509", "-noout", "-serial"], stdin=pem.group(0).encode())
    return p.stdout.decode().strip().split("=", 1)[1].upper()


def issue_server_certificate(tls_dir, work):
    """A new key and certificate for the gateway's address from the test CA,
    renamed into place over server.key and server.crt (key first: 0600, user xo)."""
    key, csr, crt, ext = work / "server.key", work / "server.csr", work / "server.crt", work / "ext"
    host = make_target("gateway", "https").host
    ext.write_text(f"subjectAltName=IP:{host}\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    old_umask = os.umask(0o077)
    try:
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)])
    finally:
        os.umask(old_umask)
    shutil.chown(key, "xo", "xo")
    run(["openssl", "req", "-new", "-key", str(key), "-subj", f"/O=XO-Ceph/CN={host}", "-out", str(csr)])
    serial = "0x" + os.urandom(8).hex()
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(tls_dir / "ca.crt"), "-CAkey",
         str(tls_dir / "ca.key"), "-set_serial", serial, "-days", "2", "-sha256", "-extfile", str(ext),
         "-out", str(crt)])
    os.chmod(crt, 0o644)
    # Same directory as the live files, so that each rename is atomic.
    for f in (key, crt):
        staged = tls_dir / f".{f.name}.new"
        shutil.copy2(f, staged)
        if f is key:
            shutil.chown(staged, "xo", "xo")
        os.rename(staged, tls_dir / f.name)
    return serial_of(tls_dir / "server.crt")


def test_sighup_reloads_certificate(gw_https, gw_big_object, tmp_path):
    """New certificate and key renamed into place + SIGHUP: new connections get
    the new serial; a kept-alive connection from before keeps working."""
    bucket, key, data = gw_big_object
    tls_dir = pathlib.Path(env("XO_TLS_DIR"))
    pid = int((pathlib.Path(env("XO_RUN_DIR")) / "run" / "xo-gateway.pid").read_text())
    # SIGHUP's default action ends a process: only send it to a gateway that catches it.
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", pathlib.Path(f"/proc/{pid}/status").read_text(), re.M)
                 .group(1), 16)
    assert caught & (1 << (signal.SIGHUP - 1)), "xo-gateway does not catch SIGHUP (no certificate reload)"
    old = served_serial(gw_https)
    assert old == serial_of(tls_dir / "server.crt")
    with gw_https.conn() as kept:
        kept.send(get_request(gw_https, bucket, key, close=False))
        r = kept.response()
        assert r.status == 200 and sha(r.body) == sha(data)
        new = issue_server_certificate(tls_dir, tmp_path)
        assert new != old
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while served_serial(gw_https) != new:
            assert time.monotonic() < deadline, f"still serving serial {old} 10 s after SIGHUP"
            time.sleep(0.2)
        kept.send(get_request(gw_https, bucket, key, close=False))
        r = kept.response()
        assert r.status == 200 and sha(r.body) == sha(data)
    # And the new certificate verifies against the CA for a full client.
    with gw_https.conn() as fresh:
        assert fresh.sock.version() in ("TLSv1.2", "TLSv1.3")


def test_no_tls_key_material_in_logs_or_metrics(gw_https, gw_big_object, tmp_path, monkeypatch):
    """The secrets of offloaded HTTPS GETs — curl's key log: TLS 1.3 traffic
    secrets, TLS 1.2 master secrets — are in no log or metrics page of the
    gateway, the responders or Ceph, although their send state travelled."""
    bucket, key, data = gw_big_object
    keylog = tmp_path / "keylog"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    sent_before = responder_sent()
    for version in (["--tlsv1.3"], ["--tls-max", "1.2"]):
        out = tmp_path / "body"
        code, log = curl_get(gw_https, bucket, key, out, *version)
        assert code == "200" and sha(out.read_bytes()) == sha(data), log[-1500:]
    assert served_by_responders(sent_before), "no responder sent: nothing was offloaded"
    lines = [l.split() for l in keylog.read_text().splitlines() if l and not l.startswith("#")]
    labels = {l[0] for l in lines}
    assert {"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "CLIENT_RANDOM"} <= labels, labels
    assert_nowhere({l[2].lower() for l in lines})
