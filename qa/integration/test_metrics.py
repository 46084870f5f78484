"""xo-gateway's Prometheus endpoint (--metrics-listen, XO_GATEWAY_METRICS):
the exposition format, counters that follow real S3 traffic, 404 for other
paths, and an S3 port that keeps working while it is scraped."""

import os
import pathlib
import re
import uuid

import pytest

from conftest import REPO, env
from xometrics import fetch, responder_urls, scrape as scrape_url, scrape_until

MiB = 1024 * 1024


def scrape():
    """Every sample of one scrape of the gateway, and the text."""
    return scrape_url(env("XO_GATEWAY_METRICS"))


def base_url():
    return env("XO_GATEWAY_METRICS").rsplit("/metrics", 1)[0]


def test_exposition_has_every_gateway_family(gw):
    samples, text = scrape()
    for family, kind in [("xo_gateway_requests_total", "counter"),
                         ("xo_gateway_relayed_body_bytes_total", "counter"),
                         ("xo_gateway_received_body_bytes_total", "counter"),
                         ("xo_gateway_connections", "gauge"),
                         ("xo_offload_total", "counter"),
                         ("xo_handoff_seconds", "histogram")]:
        assert f"# TYPE {family} {kind}\n" in text, family
        assert f"# HELP {family} " in text, family
    for series in ('xo_offload_total{outcome="offloaded"}', 'xo_offload_total{outcome="relayed_small"}',
                   'xo_offload_total{outcome="relayed_ineligible",reason="subresource"}',
                   'xo_offload_total{outcome="fallback",reason="no_responder"}',
                   'xo_offload_total{outcome="lost"}', 'xo_handoff_seconds_count'):
        assert series in samples, series


def offload_threshold():
    return int(os.environ.get("XO_OFFLOAD_THRESHOLD", "1048576"))


def test_put_and_get_move_the_counters(s3_gw, bucket_gw):
    """A small GET is relayed whole; a GET above the threshold is offloaded:
    the gateway relays only the first threshold bytes."""
    threshold = offload_threshold()
    size = max(MiB, 4 * threshold)
    before, _ = scrape()
    data = os.urandom(size)
    key = f"metrics-{uuid.uuid4().hex[:8]}"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=data)
    small = b"x" * min(100, threshold)
    s3_gw.put_object(Bucket=bucket_gw, Key=key + "-small", Body=small)
    assert s3_gw.get_object(Bucket=bucket_gw, Key=key)["Body"].read() == data
    assert s3_gw.get_object(Bucket=bucket_gw, Key=key + "-small")["Body"].read() == small
    gets = 'xo_gateway_requests_total{method="GET",status_class="2xx"}'
    after = scrape_until(env("XO_GATEWAY_METRICS"), lambda a: a.get(gets, 0) - before.get(gets, 0) >= 2)

    def grew(name):
        return after.get(name, 0) - before.get(name, 0)

    assert grew("xo_gateway_received_body_bytes_total") >= size
    assert grew('xo_gateway_requests_total{method="PUT",status_class="2xx"}') >= 2
    assert grew('xo_gateway_requests_total{method="GET",status_class="2xx"}') >= 2
    assert grew('xo_offload_total{outcome="relayed_small"}') >= 1
    assert grew('xo_offload_total{outcome="offloaded"}') >= 1
    assert grew("xo_handoff_seconds_count") >= 1
    # The gateway relayed the small object and the big one's first bytes only.
    assert len(small) + threshold <= grew("xo_gateway_relayed_body_bytes_total") < size


def test_open_connection_is_counted(gw):
    with gw.conn(timeout=10) as c:
        c.send(f"GET /xoit-metrics-{uuid.uuid4().hex[:8]} HTTP/1.1\r\nHost: {gw.hostport}\r\n\r\n".encode())
        assert c.response().status == 404          # answered, connection kept alive
        samples, _ = scrape()
        assert samples["xo_gateway_connections"] >= 1


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/metrics/extra"),
                                         ("GET", "/metricsx"), ("POST", "/metrics")])
def test_other_requests_get_404(gw, method, path):
    status, _, _ = fetch(base_url() + path, method)
    assert status == 404


def test_s3_port_unaffected_by_scrapes(gw, s3_gw, bucket_gw):
    for _ in range(5):
        scrape()
    key = f"after-scrapes-{uuid.uuid4().hex[:8]}"
    s3_gw.put_object(Bucket=bucket_gw, Key=key, Body=b"still here")
    assert s3_gw.get_object(Bucket=bucket_gw, Key=key)["Body"].read() == b"still here"


def test_the_dashboard_and_alerts_name_only_series_the_daemons_export(gw):
    """docs/monitoring: a renamed or removed metric must not leave an empty panel or a silent alert."""
    _, text = scrape()
    for url in responder_urls():
        text += scrape_url(url)[1]
    families = set(re.findall(r"^# TYPE (xo_\w+) ", text, re.M))
    monitoring = pathlib.Path(REPO) / "docs" / "monitoring"
    for name in ("grafana-dashboard.json", "prometheus-alerts.yml"):
        used = set(re.findall(r"\b(xo_\w+?)(?:_bucket|_sum|_count)?\b", (monitoring / name).read_text()))
        assert used, name
        assert used <= families, f"{name} names series no daemon exports: {sorted(used - families)}"
