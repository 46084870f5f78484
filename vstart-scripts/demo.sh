#!/usr/bin/env bash
# The XO-Ceph demo: installs what is missing, builds the two daemons, starts a cluster in
# network namespaces (mon, 3 OSD hosts with an xo-responder each, radosgw,
# xo-gateway), then puts and gets a 64 MiB object with s3cmd through
# xo-gateway, shows from the daemons' metrics that the GET was offloaded
# (body bytes sent by the responders vs relayed by the gateway), and shows
# where things run.
# The cluster stays up for you to play with; the last lines say how to stop it.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
scripts/build.sh xo-gateway xo-responder

vstart=vstart-scripts/xo-vstart.sh
unset XO_RUN_DIR
"$vstart" stop >/dev/null 2>&1 || true
"$vstart" start
eval "$("$vstart" env)"

in_client() { ip netns exec "$XO_CLIENT_NS" "$@"; }
s3() { in_client s3cmd -c "$XO_S3CFG" --no-progress "$@"; }
# metric URL NAME: the sum of a metric's samples at URL (scraped from the client namespace)
metric() {
  in_client curl -sf --max-time 5 "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }'
}
responder_bytes() {
  local url sum=0
  for url in $XO_RESPONDER_METRICS; do sum=$((sum + $(metric "$url" xo_responder_sent_body_bytes_total))); done
  echo "$sum"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((64 << 20)) /dev/urandom >"$work/object"

echo
echo "== s3cmd through xo-gateway ($XO_S3_ENDPOINT)"
s3 mb s3://demo
s3 put "$work/object" s3://demo/object-64MiB
gw_before=$(metric "$XO_GATEWAY_METRICS" xo_gateway_relayed_body_bytes_total)
rsp_before=$(responder_bytes)
s3 get --force s3://demo/object-64MiB "$work/object.back"
gw_bytes=$(($(metric "$XO_GATEWAY_METRICS" xo_gateway_relayed_body_bytes_total) - gw_before))
rsp_bytes=$(($(responder_bytes) - rsp_before))
s3 ls s3://demo
if cmp -s "$work/object" "$work/object.back"; then
  echo "64 MiB round trip: sha256 $(sha256sum <"$work/object.back" | cut -c1-16)… matches"
  echo "GET body bytes: $rsp_bytes sent by the responders, $gw_bytes relayed by xo-gateway" \
    "(threshold $XO_OFFLOAD_THRESHOLD)"
  echo "xo_offload_total (gateway):"
  in_client curl -sf --max-time 5 "$XO_GATEWAY_METRICS" | grep '^xo_offload_total' | grep -v ' 0$' | sed 's/^/  /'
else
  echo "64 MiB round trip: MISMATCH" >&2
  exit 1
fi

echo
echo "== xo-gateway access log ($XO_GATEWAY_ACCESS_LOG), last requests"
tail -n 3 "$XO_GATEWAY_ACCESS_LOG"

echo
echo "== where things run"
"$vstart" status
echo
echo "Try:  ip netns exec $XO_CLIENT_NS s3cmd -c $XO_S3CFG ls s3://demo"
echo "Stop: $repo/$vstart stop"
