#!/usr/bin/env bash
# relay.sh — what do GETs that xo-gateway relays (objects no larger than the
# offload threshold) cost, compared with talking to radosgw directly — with
# offload on, as users run it, and with offload off?
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs build/rgw_xo/xo-gateway, build/osd_xo/xo-responder
#    and build/qa/bench/xo-get-load (bench_lib.sh's upload check and warm-up),
#    and `wrk` (scripts/install-deps.sh installs it).
# 2. Starts a private throwaway cluster, XO_INSTANCE=xobench, with
#    vstart-scripts/xo-vstart.sh, offload ON at vstart's default threshold
#    (1 MiB), and traps EXIT to stop it again (also on error or Ctrl-C).
#    XO_GATEWAY_ARGS reaches the gateway's command line (e.g.
#    `--offload-small-objects 0`, which narrows every GET as the gateway did
#    before it remembered small objects). Another instance running at the
#    same time is fine.
# 3. Starts a second xo-gateway in the gateway namespace, offload OFF, on
#    198.18.0.2:8080 (same radosgw upstream, 127.0.0.1:8000), as user xo; the
#    trap stops it (by its pid) before the cluster.
# 4. In the client namespace, s3cmd creates a bucket and uploads public-read
#    objects of 4 KiB and 1 MiB (random data; both at most the threshold, so
#    relayed; XO_BENCH_SIZES may add 64m, which offload ON then offloads),
#    straight to radosgw. An anonymous GET of every object through both
#    vstart endpoints must succeed before anything is measured.
# 5. For each size × concurrency {1, 8, 32} it runs wrk (one thread,
#    keep-alive, exact totals from qa/bench/wrk_json.lua) in the client
#    namespace against the three targets: `on` (xo-gateway, offload on,
#    :80), `off` (xo-gateway, offload off, :8080) and `direct` (radosgw,
#    198.18.0.2:8000). Each cell is split into ROUNDS rounds with the
#    targets alternating (on off direct, direct off on, ...), so that load
#    from anything else on the machine hits all about equally; the 1-minute
#    load average is logged around every round with a WARN when the machine
#    is not quiet. After a short unmeasured warm-up of each size. About 3
#    minutes on 2 cores.
#    Throughput counts every body byte received over the summed round time;
#    latency p50/p99 is the median of the per-round values. CPU time
#    (/proc/<pid>/stat) of xo-gateway (both gateways together: the idle one
#    adds next to nothing) and of each radosgw instance (radosgw.gw behind
#    the gateways, radosgw.direct for direct) is shown as µs per GET.
# 6. Prints a table (per target MiB/s, req/s, p50, p99, CPU µs/GET; the
#    ratios on/direct and off/direct for throughput and p50) after stopping
#    the cluster, and, as the very last line of stdout, machine-readable
#    key=value ratios.
#
# Everything runs inside the cluster's network namespaces (198.18.0.0/24);
# nothing is sent anywhere else. The raw JSON record of every round is kept in
# $XO_BENCH_OUT (default /tmp/xobench-results.jsonl).
#
# Knobs (environment):
#   XO_BENCH_SECONDS_4K / _1M / _64M   seconds per cell and target (default 6 / 6 / 12)
#   XO_BENCH_ROUNDS                    rounds each cell is split into (default 3)
#   XO_BENCH_CONCURRENCY               list (default "1 8 32")
#   XO_BENCH_SIZES                     list of 4k, 1m, 64m (default "4k 1m")
#   XO_GATEWAY_ARGS                    extra xo-gateway flags for the offload-on gateway
#   XO_BENCH_OUT=file                  raw JSON results (default /tmp/xobench-results.jsonl)
#
# Ratios: throughput ratio = gateway MiB/s / direct MiB/s (1.0 = no cost,
# 0.9 = relaying costs 10%); p50 ratio = gateway p50 / direct p50 (1.0 = no
# cost, 1.15 = 15% slower).
set -Eeuo pipefail

BENCH_NAME=relay.sh
export XO_INSTANCE=xobench
export XO_OFFLOAD=1
unset XO_OFFLOAD_THRESHOLD  # vstart's default
BENCH_ROUNDS=${XO_BENCH_ROUNDS:-3}
BENCH_CPU_COMMS='^(xo-gateway|radosgw)$'
BENCH_CPU_SPLIT_RGW=1
BENCH_LOAD_FN=bench_wrk
# shellcheck source=qa/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

command -v wrk >/dev/null || die "wrk not found; run scripts/install-deps.sh"

SECS_4K=${XO_BENCH_SECONDS_4K:-6}
SECS_1M=${XO_BENCH_SECONDS_1M:-6}
SECS_64M=${XO_BENCH_SECONDS_64M:-12}
read -ra CONCS <<<"${XO_BENCH_CONCURRENCY:-1 8 32}"
read -ra SIZES <<<"${XO_BENCH_SIZES:-4k 1m}"
BUCKET=xobench
OFF_PORT=8080
TARGETS=(on off direct)

declare -A BYTES=([4k]=4096 [1m]=$((1 << 20)) [64m]=$((64 << 20)))
declare -A SECS=([4k]=$SECS_4K [1m]=$SECS_1M [64m]=$SECS_64M)
for s in "${SIZES[@]}"; do [[ -n ${BYTES[$s]:-} ]] || die "unknown size '$s' in XO_BENCH_SIZES (4k, 1m, 64m)"; done

OFF_PID=
relay_cleanup() {
  local rc=$?
  if [[ -n $OFF_PID ]]; then
    kill "$OFF_PID" 2>/dev/null || true
    wait "$OFF_PID" 2>/dev/null || true
  fi
  (exit "$rc")
  bench_cleanup
}

bench_init /tmp/xobench-results.jsonl
trap relay_cleanup EXIT
bench_start_cluster

# The offload-off gateway: the same relay, no offload flags; as user xo, like vstart's.
gw_ip=${XO_S3_ENDPOINT#http://}
gw_ip=${gw_ip%%:*}
ip netns exec "$XO_GATEWAY_NS" setpriv --reuid=xo --regid=xo --clear-groups --no-new-privs -- \
  "$GATEWAY" --listen "$gw_ip:$OFF_PORT" --upstream 127.0.0.1:8000 --access-log /dev/null \
  </dev/null >>"$TMP/gateway-off.log" 2>&1 &
OFF_PID=$!
OFF_ENDPOINT=http://$gw_ip:$OFF_PORT
for _ in $(seq 50); do
  in_client curl -s -o /dev/null "$OFF_ENDPOINT/" && break
  kill -0 "$OFF_PID" 2>/dev/null || { cat "$TMP/gateway-off.log" >&2; die "the offload-off xo-gateway exited"; }
  sleep 0.1
done

specs=()
for s in "${SIZES[@]}"; do specs+=("obj-$s=${BYTES[$s]}"); done
bench_upload "$BUCKET" rgw "${specs[@]}"

# ------------------------------------------------------------- measure

# CPU µs per GET of the comms (jq array literal) during the cell's rounds of TARGET.
cpu_us_per_get() {
  awk -v t="$(bench_cell_ticks "$1" "$2")" -v hz="$TICKS_PER_S" -v n="$(field "$3" requests_total)" \
    'BEGIN { printf "%.0f", (n > 0 ? 1e6 * t / hz / n : 0) }'
}

declare -A AGG THR P50
ROWS=()
total_errors=0
for s in "${SIZES[@]}"; do
  bench_warmup "$BUCKET/obj-$s"
  bench_wrk "$OFF_ENDPOINT/$BUCKET/obj-$s" 1 1 >/dev/null
  for c in "${CONCS[@]}"; do
    bench_cell "$s" "$c" "${SECS[$s]}" on="$XO_S3_ENDPOINT/$BUCKET/obj-$s" off="$OFF_ENDPOINT/$BUCKET/obj-$s" \
      direct="$XO_RGW_ENDPOINT/$BUCKET/obj-$s"
    row=$(printf '%-4s %4s' "$s" "$c")
    for t in "${TARGETS[@]}"; do
      a=$(bench_aggregate "$t")
      # requests summed over the rounds, for CPU per GET
      a=$(jq -c --argjson n "$(printf '%s' "${CELL[$t]}" | jq -s '[.[].run.requests] | add')" '. + {requests_total: $n}' <<<"$a")
      AGG[$t]=$a
      if [[ $t == direct ]]; then
        cpu=$(printf '%5s %5s' - "$(cpu_us_per_get "$t" '["radosgw.direct"]' "$a")")
      else
        cpu=$(printf '%5s %5s' "$(cpu_us_per_get "$t" '["xo-gateway"]' "$a")" "$(cpu_us_per_get "$t" '["radosgw.gw"]' "$a")")
      fi
      row+=$(printf ' | %8.1f %8.1f %7s %7s %s' "$(field "$a" mib_s)" "$(field "$a" req_s)" \
        "$(num "$a" lat_p50_ms)" "$(num "$a" lat_p99_ms)" "$cpu")
      total_errors=$((total_errors + $(field "$a" errors)))
    done
    for t in on off; do
      THR[$t.$s.$c]=$(ratio "$(field "${AGG[$t]}" mib_s)" "$(field "${AGG[direct]}" mib_s)")
      P50[$t.$s.$c]=$(ratio "$(field "${AGG[$t]}" lat_p50_ms)" "$(field "${AGG[direct]}" lat_p50_ms)")
    done
    row+=$(printf ' | %5s %5s | %5s %5s' "${THR[on.$s.$c]}" "${P50[on.$s.$c]}" "${THR[off.$s.$c]}" "${P50[off.$s.$c]}")
    ROWS+=("$row")
  done
done

# ------------------------------------------------------------- report

bench_stop_cluster
hdr_target() { printf ' | %-8s %8s %7s %7s %5s %5s' MiB/s req/s p50ms p99ms gw-us rgw-us; }
bench_report \
  "wrk -t1 -cCONC, keep-alive; per cell and target ${SECS[4k]}/${SECS[1m]}/${SECS[64m]} s for 4k/1m/64m in $BENCH_ROUNDS alternating rounds" \
  "on: xo-gateway :80 offload ON (vstart default threshold${XO_GATEWAY_ARGS:+, $XO_GATEWAY_ARGS}); off: xo-gateway :$OFF_PORT offload OFF; direct: radosgw :8000" \
  "p50/p99: median over rounds; gw-us / rgw-us: CPU µs per GET of xo-gateway / of the radosgw serving that target" \
  "WARN rounds started with 1-minute load > $BENCH_QUIET_LOAD: $BENCH_NOISY_ROUNDS (the machine is shared)" \
  -- \
  "$(printf '%-9s | %-50s | %-50s | %-50s | %-11s | %s' "" "on (offload ON)" "off (offload OFF)" "direct" "on/direct" "off/direct")" \
  "$(printf '%-4s %4s%s%s%s | %5s %5s | %5s %5s' size conc "$(hdr_target)" "$(hdr_target)" "$(hdr_target)" thr p50 thr p50)" \
  -- "${ROWS[@]}"
# Headline keys first (the small-object tax: 4 KiB with offload on), then every other ratio.
kv=("on_4k_c1_p50_ratio=${P50[on.4k.1]:-nan}" "on_4k_c32_thr_ratio=${THR[on.4k.32]:-nan}" "errors=$total_errors")
for s in "${SIZES[@]}"; do
  for c in "${CONCS[@]}"; do
    for t in on off; do
      [[ $t.$s.$c == on.4k.1 ]] || kv+=("${t}_${s}_c${c}_p50_ratio=${P50[$t.$s.$c]}")
      [[ $t.$s.$c == on.4k.32 ]] || kv+=("${t}_${s}_c${c}_thr_ratio=${THR[$t.$s.$c]}")
    done
  done
done
kv+=("noisy_rounds=$BENCH_NOISY_ROUNDS")
echo "${kv[*]}"
