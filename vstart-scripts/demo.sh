#!/usr/bin/env bash
# The XO-Ceph demo: installs what is missing, builds, starts a cluster in
# network namespaces (mon, 3 OSD hosts, radosgw, xo-gateway), then puts and
# gets an object with s3cmd through xo-gateway and shows where things run.
# The cluster stays up for you to play with; the last lines say how to stop it.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
scripts/build.sh

vstart=vstart-scripts/xo-vstart.sh
unset XO_RUN_DIR
"$vstart" stop >/dev/null 2>&1 || true
"$vstart" start
eval "$("$vstart" env)"

in_client() { ip netns exec "$XO_CLIENT_NS" "$@"; }
s3() { in_client s3cmd -c "$XO_S3CFG" --no-progress "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((64 << 20)) /dev/urandom >"$work/object"

echo
echo "== s3cmd through xo-gateway ($XO_S3_ENDPOINT)"
s3 mb s3://demo
s3 put "$work/object" s3://demo/object-64MiB
s3 get --force s3://demo/object-64MiB "$work/object.back"
s3 ls s3://demo
if cmp -s "$work/object" "$work/object.back"; then
  echo "64 MiB round trip: sha256 $(sha256sum <"$work/object.back" | cut -c1-16)… matches"
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
