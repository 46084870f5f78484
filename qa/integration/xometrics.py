"""Prometheus scrapes of the XO daemons (gateway: XO_GATEWAY_METRICS,
responders: XO_RESPONDER_METRICS, space-separated)."""

import os
import re
import time
import urllib.error
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$')


def fetch(url, method="GET"):
    """(status, content type, body text) of one request to a metrics port."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def parse(text):
    """Every sample of an exposition, as {'name{labels}': value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not an exposition sample: {line!r}"
        samples[m.group(1)] = float(m.group(2))
    return samples


def scrape(url):
    """(samples, text) of one scrape of @url, checking status and content type."""
    status, ctype, text = fetch(url)
    assert status == 200, (url, status, text)
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    return parse(text), text


def responder_urls():
    return os.environ.get("XO_RESPONDER_METRICS", "").split()


def responder_sent():
    """{host ip: xo_responder_sent_body_bytes_total} of every responder."""
    out = {}
    for url in responder_urls():
        host = re.match(r"http://([^:/]+)", url).group(1)
        samples, _ = scrape(url)
        out[host] = samples.get("xo_responder_sent_body_bytes_total", 0)
    return out


def scrape_until(url, settled, timeout=5.0):
    """Samples of @url once settled(samples) holds, or the last ones after
    @timeout. The gateway records an offloaded GET when the connection comes
    back, a moment after the client has its last byte."""
    deadline = time.monotonic() + timeout
    while True:
        samples, _ = scrape(url)
        if settled(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)
