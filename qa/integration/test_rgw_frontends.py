"""xo-gateway configured the way operators enable it: an `xo` entry in the
`rgw frontends` of a radosgw instance, read from ceph.conf or from the
monitors' config database (`ceph config set client.rgw.<id> rgw_frontends`)."""

import http.client
import os
import subprocess
import time
import uuid

import pytest

from conftest import env, gateway_binary
from test_offload import ceph


def gateway_command(name):
    return ["ip", "netns", "exec", env("XO_GATEWAY_NS"), gateway_binary(), "--name", name,
            "--ceph-conf", env("CEPH_CONF"), "--ceph-id", "xo-gateway"]


def test_the_clusters_gateway_runs_from_its_rgw_frontends_entry(main_gateway_pids):
    (pid,) = main_gateway_pids
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    assert "--name" in argv and "--listen" not in argv and "--channel-keys" not in argv, argv


def test_an_entry_in_the_monitors_config_database_configures_a_gateway(gw, tmp_path):
    name = f"client.rgw.xo{uuid.uuid4().hex[:6]}"
    port = 18080
    log = tmp_path / "gateway.log"
    ceph("config", "set", name, "rgw_frontends",
         f"beast endpoint=127.0.0.1:8000 tcp_nodelay=1, xo endpoint={gw.host}:{port} threads=1")
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen(gateway_command(name), stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    conn = http.client.HTTPConnection(gw.host, port, timeout=10)
                    conn.request("GET", "/")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "not listening:\n" + log.read_text()
                    time.sleep(0.2)
            r = conn.getresponse()
            assert r.status == 200 and b"ListAllMyBucketsResult" in r.read()
            conn.close()
        finally:
            proc.terminate()
            assert proc.wait(30) == 0, log.read_text()
    finally:
        ceph("config", "rm", name, "rgw_frontends")


@pytest.mark.parametrize("value, says", [
    (None, "no xo entry"),
    ("beast endpoint=127.0.0.1:8000, xo endpoint=198.18.0.2:18081 bogus_key=1", "bogus-key"),
    ("beast endpoint=127.0.0.1:8000, xo endpoint=198.18.0.2:18081 offload_threshold=lots", "not a size"),
    ("xo endpoint=198.18.0.2:18081", "no beast entry"),
])
def test_a_missing_or_malformed_entry_refuses_the_start_saying_why(value, says):
    name = f"client.rgw.xo{uuid.uuid4().hex[:6]}"
    if value is not None:
        ceph("config", "set", name, "rgw_frontends", value)
    try:
        out = subprocess.run(gateway_command(name), capture_output=True, text=True, timeout=60)
    finally:
        if value is not None:
            ceph("config", "rm", name, "rgw_frontends")
    assert out.returncode == 2, out
    assert name in out.stderr and says in out.stderr, out.stderr


def test_the_gateway_is_in_the_service_map_beside_radosgw(main_gateway_pids):
    """`ceph service dump` lists xo-gateway under the radosgw instance it fronts."""
    if not ceph("mgr", "stat").get("available"):
        pytest.skip("SKIPPED: no ceph-mgr in this cluster (start it with XO_MGR=1): the service map lives there")
    deadline = time.monotonic() + 30
    while True:
        services = ceph("service", "dump").get("services", {})
        daemons = services.get("xo-gateway", {}).get("daemons", {})
        entries = [d for name, d in daemons.items() if name != "summary" and isinstance(d, dict)]
        if entries or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert entries, services
    (pid,) = main_gateway_pids
    metadata = entries[0]["metadata"]
    assert metadata["rgw_instance"] == "client.rgw.gw" and metadata["pid"] == str(pid), metadata
    assert metadata["endpoint"] == env("XO_S3_ENDPOINT").split("//")[1], metadata
