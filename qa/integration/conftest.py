"""Fixtures for the XO-Ceph integration suite.

The suite runs inside the client network namespace of a cluster started by
vstart-scripts/xo-vstart.sh (see run.sh) and reads the cluster's coordinates
from the environment that `xo-vstart.sh env` prints.

Most tests are parametrised over two targets:
  gateway  xo-gateway (XO_S3_ENDPOINT), the thing under test
  rgw      radosgw directly (XO_RGW_ENDPOINT), the reference behaviour
XO_IT_TARGETS (comma separated, default "gateway,rgw") selects them.
Gateway-only tests (bad input, timeouts, access log, ...) use the `gw` fixture.

XO_SCHEME=https runs the same tests over HTTPS: every Target (and so boto3,
s3cmd and raw connections) then uses XO_S3_HTTPS_ENDPOINT and
XO_RGW_HTTPS_ENDPOINT and trusts only the cluster's test CA (XO_CA_FILE).
test_https.py uses HTTPS whatever the scheme (the `https_target` fixture).
"""

import http.client
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
import uuid

import boto3
import botocore.config
import pytest

import xohttp

REPO = pathlib.Path(__file__).resolve().parents[2]

# Nothing in this suite may go through a proxy (and nothing may leave the
# namespaces): drop any proxy settings inherited from the caller.
for _v in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_v, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"
# HTTPS clients that build their own default context (urllib in presigned-URL
# tests) trust the cluster's test CA, and only it.
if os.environ.get("XO_CA_FILE"):
    os.environ["SSL_CERT_FILE"] = os.environ["XO_CA_FILE"]


def env(name, default=None, required=True):
    v = os.environ.get(name, default)
    if v is None and required:
        pytest.fail(f"environment variable {name} is not set "
                    f"(run via qa/integration/run.sh or eval \"$(xo-vstart.sh env)\")")
    return v


SCHEME = os.environ.get("XO_SCHEME", "http")
if SCHEME not in ("http", "https"):
    raise pytest.UsageError(f"XO_SCHEME must be http or https, not {SCHEME!r}")
DEFAULT_PORTS = {"http": 80, "https": 443}


def tls_context():
    """What every HTTPS client of the suite trusts: the cluster's test CA alone."""
    return ssl.create_default_context(cafile=env("XO_CA_FILE"))


class Target:
    """An S3 endpoint: xo-gateway or radosgw, over HTTP or HTTPS."""

    def __init__(self, name, url):
        self.name = name
        u = urllib.parse.urlsplit(url.rstrip("/"))
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or DEFAULT_PORTS[self.scheme]
        # What clients put in Host: (the scheme's default port is implied).
        # The URL is written the same way: botocore signs "host" without
        # ":80" but urllib would send "Host: h:80" for a URL that spells the
        # port out.
        self.hostport = self.host if self.port == DEFAULT_PORTS[self.scheme] else f"{self.host}:{self.port}"
        self.url = f"{self.scheme}://{self.hostport}"

    @property
    def https(self):
        return self.scheme == "https"

    def conn(self, timeout=30):
        return xohttp.RawConn(self.host, self.port, timeout, tls=tls_context() if self.https else None)

    def http_connection(self, timeout=30):
        """An http.client connection to this endpoint (HTTPS: trusting the test CA)."""
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=tls_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def __repr__(self):
        return f"Target({self.name}, {self.url})"


def _targets():
    return [t.strip() for t in os.environ.get("XO_IT_TARGETS", "gateway,rgw").split(",") if t.strip()]


ENDPOINT_VARS = {
    ("gateway", "http"): "XO_S3_ENDPOINT", ("gateway", "https"): "XO_S3_HTTPS_ENDPOINT",
    ("rgw", "http"): "XO_RGW_ENDPOINT", ("rgw", "https"): "XO_RGW_HTTPS_ENDPOINT",
}


def make_target(name, scheme=None):
    """xo-gateway ("gateway") or radosgw ("rgw") over @scheme (default: XO_SCHEME)."""
    var = ENDPOINT_VARS.get((name, scheme or SCHEME))
    if var is None:
        raise ValueError((name, scheme))
    return Target(name, env(var))


@pytest.fixture(scope="session", params=_targets())
def target(request):
    return make_target(request.param)


@pytest.fixture(scope="session")
def gw():
    if "gateway" not in _targets():
        pytest.skip("gateway not among XO_IT_TARGETS")
    return make_target("gateway")


@pytest.fixture(scope="session")
def rgw():
    return make_target("rgw")


@pytest.fixture(scope="session")
def creds():
    return {
        1: (env("XO_ACCESS_KEY"), env("XO_SECRET_KEY")),
        2: (env("XO_ACCESS_KEY2"), env("XO_SECRET_KEY2")),
    }


@pytest.fixture(scope="session")
def signer(creds):
    return xohttp.Signer(*creds[1])


@pytest.fixture(scope="session")
def signer2(creds):
    return xohttp.Signer(*creds[2])


def boto_client(t, access, secret, **cfg):
    config = botocore.config.Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=10, read_timeout=60, **cfg)
    return boto3.client("s3", endpoint_url=t.url, aws_access_key_id=access,
                        aws_secret_access_key=secret, region_name=xohttp.REGION,
                        config=config, verify=env("XO_CA_FILE") if t.https else None)


@pytest.fixture(scope="session")
def s3(target, creds):
    return boto_client(target, *creds[1])


@pytest.fixture(scope="session")
def s3_user2(target, creds):
    return boto_client(target, *creds[2])


@pytest.fixture(scope="session")
def rgw_admin_s3(rgw, creds):
    """boto3 on radosgw directly: used for set-up checks and clean-up, so a
    broken gateway cannot leave data behind."""
    return boto_client(rgw, *creds[1])


def unique(prefix="xoit"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def empty_and_delete(client, bucket):
    try:
        while True:
            r = client.list_objects_v2(Bucket=bucket)
            keys = [o["Key"] for o in r.get("Contents", [])]
            for k in keys:
                client.delete_object(Bucket=bucket, Key=k)
            if not r.get("IsTruncated"):
                break
        for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        client.delete_bucket(Bucket=bucket)
    except Exception as e:  # clean-up must not hide the test's own result
        print(f"clean-up of bucket {bucket} failed: {e!r}")


@pytest.fixture
def bucket(s3, rgw_admin_s3):
    """A fresh bucket of user 1, created through the target."""
    name = unique()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(rgw_admin_s3, name)


@pytest.fixture(scope="session")
def client_addr(rgw):
    """This namespace's address as the cluster sees it."""
    v = os.environ.get("XO_CLIENT_ADDR")
    if v:
        return v
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((rgw.host, rgw.port))  # UDP connect sends nothing
        return s.getsockname()[0]
    finally:
        s.close()


# ---------------------------------------------------------------- s3cmd

@pytest.fixture(scope="session")
def s3cmd_cfg(target, creds, tmp_path_factory):
    return write_s3cmd_cfg(target, creds, tmp_path_factory)


def write_s3cmd_cfg(target, creds, tmp_path_factory):
    """An s3cmd config for @target as user 1 (over HTTPS trusting the test CA only)."""
    access, secret = creds[1]
    path = tmp_path_factory.mktemp("s3cmd") / f"s3cfg-{target.name}-{target.scheme}"
    tls = (f"use_https = True\ncheck_ssl_certificate = True\ncheck_ssl_hostname = True\n"
           f"ca_certs_file = {env('XO_CA_FILE')}\n") if target.https else "use_https = False\n"
    path.write_text(
        "[default]\n"
        f"access_key = {access}\n"
        f"secret_key = {secret}\n"
        f"host_base = {target.host}:{target.port}\n"
        f"host_bucket = {target.host}:{target.port}\n"
        + tls +
        "signature_v2 = False\n"
        f"bucket_location = {xohttp.REGION}\n"
        "proxy_host =\n"
        "proxy_port = 0\n"
        "socket_timeout = 60\n"
        "max_retries = 1\n"
        "progress_meter = False\n")
    return str(path)


# ---------------------------------------------------------------- extra gateways

def built_tool(name, env_var):
    """Path of qa/tools' @name (or $@env_var), failing the test if it is not built."""
    path = os.environ.get(env_var, str(REPO / "build" / "qa" / "tools" / name))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} missing at {path}: build it (cmake --build build --target {name})")
    return path


def gateway_binary():
    return os.environ.get("XO_GATEWAY_BIN", str(REPO / "build" / "rgw_xo" / "xo-gateway"))


EXTRA_HTTPS_OFFSET = 10000   # an extra gateway on HTTP port P serves HTTPS on P + this


class ExtraGateway:
    """An additional xo-gateway process in the gateway namespace, on its own
    port; with XO_SCHEME=https also on an HTTPS port (the cluster's
    certificate), which is then its `target`."""

    def __init__(self, host, port, upstream, args, log_dir):
        self.host, self.port = host, port
        tls_args = []
        if SCHEME == "https":
            tls_dir = pathlib.Path(env("XO_TLS_DIR"))
            self.target = Target(f"extra:{port}", f"https://{host}:{port + EXTRA_HTTPS_OFFSET}")
            tls_args = ["--ssl-endpoint", f"{host}:{self.target.port}",
                        "--ssl-certificate", str(tls_dir / "server.crt"),
                        "--ssl-private-key", str(tls_dir / "server.key")]
        else:
            self.target = Target(f"extra:{port}", f"http://{host}:{port}")
        self.access_log = log_dir / f"access-{port}.log"
        self.stderr_path = log_dir / f"stderr-{port}.log"
        cmd = [gateway_binary(), "--listen", f"{host}:{port}", "--upstream", upstream,
               "--threads", "2", "--access-log", str(self.access_log)] + tls_args + list(args)
        ns = os.environ.get("XO_GATEWAY_NS")
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd  # ip netns exec execs: same pid
        self.cmd = cmd
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._stderr, stderr=subprocess.STDOUT)
        self._wait_listening()

    def _wait_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"extra xo-gateway exited with {self.proc.returncode}: "
                            f"{' '.join(self.cmd)}\n{self.log()}")
            try:
                socket.create_connection((self.host, self.target.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"extra xo-gateway not listening on {self.host}:{self.target.port}\n{self.log()}")

    def log(self):
        try:
            return self.stderr_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


_next_port = [8081]


@pytest.fixture
def extra_gateway(gw, tmp_path):
    """Factory: extra_gateway(upstream=None, args=[...]) -> ExtraGateway.
    Every gateway started is stopped at the end of the test."""
    started = []
    upstream_default = os.environ.get("XO_GATEWAY_UPSTREAM", "127.0.0.1:8000")
    if not os.path.exists(gateway_binary()):
        pytest.fail(f"xo-gateway binary missing: {gateway_binary()}")

    def start(args=(), upstream=None):
        port = _next_port[0]
        _next_port[0] += 1
        g = ExtraGateway(gw.host, port, upstream or upstream_default, args, tmp_path)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()


@pytest.fixture(scope="session")
def s3_gw(gw, creds):
    """boto3 through xo-gateway regardless of the `target` parameter."""
    return boto_client(gw, *creds[1])


# ---------------------------------------------------------------- HTTPS whatever XO_SCHEME says

@pytest.fixture(scope="session", params=_targets())
def https_target(request):
    """xo-gateway's and radosgw's HTTPS endpoints, side by side."""
    return make_target(request.param, "https")


@pytest.fixture(scope="session")
def gw_https():
    if "gateway" not in _targets():
        pytest.skip("gateway not among XO_IT_TARGETS")
    return make_target("gateway", "https")


@pytest.fixture(scope="session")
def s3_https(https_target, creds):
    """boto3 over HTTPS to the `https_target` parameter, verifying with the test CA."""
    return boto_client(https_target, *creds[1])


@pytest.fixture(scope="session")
def s3_gw_https(gw_https, creds):
    return boto_client(gw_https, *creds[1])


@pytest.fixture(scope="session")
def s3_rgw_https(creds):
    return boto_client(make_target("rgw", "https"), *creds[1])


@pytest.fixture
def bucket_gw(s3_gw, rgw_admin_s3):
    name = unique()
    s3_gw.create_bucket(Bucket=name)
    yield name
    empty_and_delete(rgw_admin_s3, name)


@pytest.fixture
def public_bucket(s3_gw, bucket_gw):
    """A bucket through the gateway whose objects anyone may read, so raw connections can GET them."""
    s3_gw.put_bucket_acl(Bucket=bucket_gw, ACL="public-read")
    return bucket_gw


@pytest.fixture(scope="module")
def offload_on():
    """For modules of offload tests (pytestmark): SKIPPED on a cluster without responders."""
    if not os.environ.get("XO_RESPONDER_METRICS", "").split():
        pytest.skip("SKIPPED: no responders (XO_RESPONDER_METRICS unset: cluster started with XO_OFFLOAD=0)")


def _gateway_pids():
    """PIDs of xo-gateway processes serving XO_S3_ENDPOINT's address:port (in this instance's gateway namespace)."""
    u = urllib.parse.urlsplit(os.environ.get("XO_S3_ENDPOINT", ""))
    want = f"{u.hostname}:{u.port or 80}"
    # Other instances use the same addresses in their own namespaces: only
    # processes in this instance's gateway namespace count.
    ns = os.environ.get("XO_GATEWAY_NS")
    try:
        ns_ino = os.stat(f"/run/netns/{ns}").st_ino if ns else None
    except OSError:
        ns_ino = None
    pids = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        if ns_ino is not None:
            try:
                if os.stat(f"/proc/{d}/ns/net").st_ino != ns_ino:
                    continue
            except OSError:
                continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        names = ("xo-gateway", os.path.basename(gateway_binary()))
        # vstart's gateway is configured by --name (its rgw frontends entry);
        # gateways the tests start name their --listen.
        if argv and os.path.basename(argv[0].decode(errors="replace")) in names \
                and (b"--name" in argv or want.encode() in b" ".join(argv)):
            pids.add(int(d))
    return pids


@pytest.fixture(scope="session", autouse=True)
def main_gateway_pids():
    """The main gateway's pids at the start (used to prove it never restarted)."""
    return _gateway_pids()
