"""Who may take part in a handoff: only the holder of a responder's key.

  - A process that took a responder's control port while the responder was
    down and answers with a certificate (`openssl s_server`, self-signed)
    completes no handshake with the gateway, so it receives no OFFER (no
    client TCP state, no client bytes); the GET falls back, byte-exact.
  - A responder's channel key rotates without a restart: the new key is added
    to the responder's keyring, the gateway's copy is replaced, the old key is
    withdrawn. The channel that proved the old key is closed at its next
    OFFER, the gateway reconnects with the new key, and offload goes on; no
    daemon restarts and every GET is byte-exact.
"""

import os
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import env
from test_offload import (MiB, Responders, gateway_samples, gw_conn, put_public, raw_get, sha, threshold)
from test_robustness import locate_host_index
from xometrics import responder_urls, scrape

OFFLOADED = 'xo_offload_total{outcome="offloaded"}'


pytestmark = pytest.mark.usefixtures("offload_on")


def control_endpoint(pid):
    """The --control IP:port of the responder @pid."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        args = f.read().decode().split("\0")
    return args[args.index("--control") + 1]


def fallbacks(samples):
    return sum(v for n, v in samples.items() if n.startswith('xo_offload_total{outcome="fallback"'))


def get_exact(bucket, key, data):
    with gw_conn() as conn:
        r = raw_get(conn, bucket, key)
    assert r.status == 200 and sha(r.body) == sha(data), key


def test_a_certificate_on_the_control_port_gets_no_handoff(s3_gw, public_bucket):
    responders = Responders()
    key = f"cert-{uuid.uuid4().hex[:6]}"
    data = os.urandom(threshold() + 3 * MiB)
    put_public(s3_gw, public_bucket, key, data)
    victim = locate_host_index(responders, public_bucket, key)
    control = control_endpoint(responders.pid(victim))
    host, port = control.rsplit(":", 1)
    with tempfile.TemporaryDirectory() as tmp:
        cert, pkey, log = f"{tmp}/cert.pem", f"{tmp}/key.pem", f"{tmp}/s_server.log"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=impostor", "-days", "1", "-keyout", pkey, "-out", cert],
                       check=True, capture_output=True)
        responders.kill(victim)
        impostor = None
        try:
            with open(log, "w") as out:
                impostor = subprocess.Popen(
                    ["ip", "netns", "exec", responders.nses[victim], "openssl", "s_server", "-brief",
                     "-accept", f"{host}:{port}", "-cert", cert, "-key", pkey, "-tls1_3"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            time.sleep(0.5)  # listening
            assert impostor.poll() is None, open(log).read()
            before = gateway_samples()
            # The gateway tries a responder's link at most once a second: GETs over 3 s.
            for _ in range(4):
                get_exact(public_bucket, key, data)
                time.sleep(1)
            after = gateway_samples()
            impostor.send_signal(signal.SIGTERM)
            impostor.wait(timeout=10)
            text = open(log).read()
        finally:
            if impostor and impostor.poll() is None:
                impostor.kill()
                impostor.wait()
            responders.start(victim)
    assert fallbacks(after) - fallbacks(before) >= 4
    assert after.get(OFFLOADED, 0) == before.get(OFFLOADED, 0)
    assert "CONNECTION ESTABLISHED" not in text, text
    # The gateway did try it (a handshake that failed), so the test saw the refusal.
    assert "error" in text.lower() or "alert" in text.lower(), text


REJECTED = "xo_responder_control_rejected_total"


def handshake(control, psk_args):
    """Whether `openssl s_client` with @psk_args completes a handshake with @control."""
    out = subprocess.run(["openssl", "s_client", "-brief", "-tls1_3", "-connect", control, *psk_args],
                         input=b"", capture_output=True, timeout=20)
    return b"CONNECTION ESTABLISHED" in out.stdout + out.stderr


def psk_args(key_line):
    key_id, key_hex = key_line.split()
    return ["-psk_identity", key_id, "-psk", key_hex]


def test_a_responder_accepts_only_a_peer_that_proves_its_key(s3_gw, public_bucket):
    """A TLS client that offers a PSK of the right name but not the right
    bytes, and one that offers no PSK, get no channel, and the responder counts both."""
    responders = Responders()
    i = 0
    url = responder_urls()[i]
    control = control_endpoint(responders.pid(i))
    key_id = open(f"{env('XO_KEYS_DIR')}/responder.{i}.key").read().split()[0]
    before = scrape(url)[0].get(REJECTED, 0)
    attempts = [["-psk_identity", key_id, "-psk", os.urandom(32).hex()], []]
    for extra in attempts:
        assert not handshake(control, extra)
    deadline = time.monotonic() + 5
    while scrape(url)[0].get(REJECTED, 0) - before < len(attempts) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert scrape(url)[0].get(REJECTED, 0) - before == len(attempts)


def replace_key_file(path, text):
    """Write @text to @path the way an operator would (a new file moved over the old), keeping owner and mode."""
    st = os.stat(path)
    tmp = f"{path}.new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def offloaded_gets(bucket, key, data, count):
    """How many of @count GETs of @key were offloaded (all byte-exact)."""
    before = gateway_samples()
    for _ in range(count):
        get_exact(bucket, key, data)
    time.sleep(0.5)  # the gateway records an offload when the connection comes back
    return gateway_samples().get(OFFLOADED, 0) - before.get(OFFLOADED, 0)


def test_channel_key_rotates_without_a_restart(s3_gw, public_bucket):
    responders = Responders()
    key = f"rot-{uuid.uuid4().hex[:6]}"
    data = os.urandom(threshold() + 2 * MiB)
    put_public(s3_gw, public_bucket, key, data)
    i = locate_host_index(responders, public_bucket, key)
    keys = env("XO_KEYS_DIR")
    responder_file = f"{keys}/responder.{i}.key"
    gateway_file = f"{keys}/gateway/{control_endpoint(responders.pid(i)).rsplit(':', 1)[0]}.key"
    old = open(responder_file).read()
    assert old == open(gateway_file).read()
    new = f"rotated-{uuid.uuid4().hex[:8]} {os.urandom(32).hex()}\n"
    pid = responders.pid(i)
    with open(env("XO_RUN_DIR") + "/run/xo-gateway.pid") as f:
        gateway_pid = int(f.read())

    assert offloaded_gets(public_bucket, key, data, 2) >= 1
    replace_key_file(responder_file, new + old)  # 1. the responder accepts both
    assert offloaded_gets(public_bucket, key, data, 2) >= 1
    replace_key_file(gateway_file, new)  # 2. the gateway offers the new one (on its next connect)
    assert offloaded_gets(public_bucket, key, data, 2) >= 1
    replace_key_file(responder_file, new)  # 3. the old one is withdrawn
    # The old-key channel is closed at its next OFFER (that GET falls back);
    # the gateway reconnects with the new key, within a second.
    deadline = time.monotonic() + 10
    offloaded = 0
    while not offloaded and time.monotonic() < deadline:
        offloaded = offloaded_gets(public_bucket, key, data, 1)
        time.sleep(0.3)
    assert offloaded, "no GET was offloaded after the rotation"
    # The withdrawn key opens no channel any more; the new one does. (Whether an
    # old-key channel was still open depends on which gateway worker took which
    # GET; its closing at the next OFFER is covered by control_tls_test.)
    control = control_endpoint(pid)
    assert not handshake(control, psk_args(old))
    assert handshake(control, psk_args(new))
    assert responders.pid(i) == pid and os.path.exists(f"/proc/{pid}")
    assert os.path.exists(f"/proc/{gateway_pid}")


def test_no_key_material_in_logs_or_metrics(s3_gw, public_bucket):
    """Every secret of the handoff plane (channel and ticket keys, as the hex
    of the key files) is absent from every log and metrics page, after
    offloaded GETs and the refusals the tests above caused."""
    key = f"secret-{uuid.uuid4().hex[:6]}"
    data = os.urandom(threshold() + MiB)
    put_public(s3_gw, public_bucket, key, data)
    get_exact(public_bucket, key, data)
    secrets = set()
    for root, _, files in os.walk(env("XO_KEYS_DIR")):
        for name in files:
            for line in open(os.path.join(root, name)):
                secrets.add(line.split()[1].lower())
    assert secrets
    assert_nowhere(secrets)


def assert_nowhere(secrets):
    """None of @secrets (lower-case hex, 32 bytes or more) in any log or metrics page of the cluster."""
    texts = {}
    for root, _, files in os.walk(env("XO_RUN_DIR") + "/log"):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                texts[name] = f.read().decode(errors="replace").lower()
    for path in (env("XO_GATEWAY_LOG"), env("XO_GATEWAY_ACCESS_LOG")):
        with open(path, "rb") as f:
            texts[path] = f.read().decode(errors="replace").lower()
    texts["gateway metrics"] = scrape(env("XO_GATEWAY_METRICS"))[1].lower()
    for url in responder_urls():
        texts[url] = scrape(url)[1].lower()
    assert any(name.startswith("xo-responder") for name in texts), sorted(texts)
    for name, text in texts.items():
        for secret in secrets:
            # Half a key is as bad as all of it.
            assert secret[:32] not in text and secret[32:64] not in text, f"key material in {name}"
