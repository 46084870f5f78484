#!/usr/bin/env bash
# relay.sh — what does relaying GETs through xo-gateway cost, compared with
# talking to radosgw directly?
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs build/qa/bench/xo-get-load and
#    build/rgw_xo/xo-gateway to exist already (cmake --build build).
# 2. Starts a private throwaway cluster, XO_INSTANCE=xobench, with
#    vstart-scripts/xo-vstart.sh and XO_OFFLOAD=0 (no xo-responders: xo-gateway
#    relays every GET, which is what this measures; qa/bench/offload.sh
#    measures offload), and traps EXIT to stop it again (also on error or
#    Ctrl-C). Another instance running at the same time is fine.
# 3. In the client namespace, s3cmd creates a bucket and uploads public-read
#    objects of 4 KiB, 1 MiB and 64 MiB (random data), so the load generator
#    can GET them anonymously. Uploads go to radosgw directly by default, so
#    that only GETs are under test (XO_BENCH_SETUP_VIA=gw sends them through
#    xo-gateway instead). An anonymous GET of every object through both
#    endpoints must succeed before anything is measured.
# 4. For each size × concurrency {1, 8, 32} it runs xo-get-load inside the
#    client namespace against xo-gateway (198.18.0.2:80) and against radosgw
#    directly (198.18.0.2:8000), back to back. Each cell is split into ROUNDS
#    short rounds, gateway and direct alternating (g d, d g, g d, ...), so
#    that load from anything else on the machine hits both about equally.
#    Before the first cell of each size there is a short unmeasured warm-up
#    against both endpoints. The whole script takes about 3 minutes on 2 cores.
#    Throughput counts every body byte received, also of objects still in
#    flight when a round ends, summed over the rounds; latency p50/p99 only
#    counts completed requests ("-" when none completed, e.g. 64 MiB at high
#    concurrency), TTFB every 2xx response header; both are the median of the
#    per-round values. xo-gateway's CPU use during its rounds is reported too.
# 5. Prints a table (MiB/s, req/s, latency p50/p99, TTFB p50, errors for
#    each endpoint, and the ratios gateway/direct for throughput and TTFB)
#    after stopping the cluster, and, as the very last line of stdout,
#    machine-readable key=value ratios.
#
# Cluster start/stop, upload, warm-up, the alternating rounds, CPU readings,
# aggregation and the report's frame live in qa/bench/bench_lib.sh, shared with
# qa/bench/offload.sh.
#
# Everything runs inside the cluster's network namespaces (198.18.0.0/24);
# nothing is sent anywhere else. The raw JSON line of every run is kept in
# $XO_BENCH_OUT (default /tmp/xobench-results.jsonl).
#
# Knobs (environment):
#   XO_BENCH_SECONDS_4K / _1M / _64M   seconds per cell and endpoint (default 4 / 4 / 12)
#   XO_BENCH_ROUNDS                    rounds each cell is split into (default 3)
#   XO_BENCH_CONCURRENCY               list (default "1 8 32")
#   XO_BENCH_SETUP_VIA=rgw|gw          where uploads go (default rgw)
#   XO_BENCH_OUT=file                  raw JSON results (default /tmp/xobench-results.jsonl)
#
# Ratios: throughput ratio = gateway MiB/s / direct MiB/s (1.0 = no cost,
# 0.9 = relaying costs 10%); TTFB ratio = gateway TTFB p50 / direct TTFB p50
# (1.0 = no cost, 1.2 = 20% slower first byte).
set -Eeuo pipefail

BENCH_NAME=relay.sh
export XO_INSTANCE=xobench
export XO_OFFLOAD=0  # pure relay
BENCH_ROUNDS=${XO_BENCH_ROUNDS:-3}
BENCH_CPU_COMMS='^xo-gateway$'
# shellcheck source=qa/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

SECS_4K=${XO_BENCH_SECONDS_4K:-4}
SECS_1M=${XO_BENCH_SECONDS_1M:-4}
SECS_64M=${XO_BENCH_SECONDS_64M:-12}
read -ra CONCS <<<"${XO_BENCH_CONCURRENCY:-1 8 32}"
SETUP_VIA=${XO_BENCH_SETUP_VIA:-rgw}
BUCKET=xobench

SIZES=(4k 1m 64m)
declare -A BYTES=([4k]=4096 [1m]=$((1 << 20)) [64m]=$((64 << 20)))
declare -A SECS=([4k]=$SECS_4K [1m]=$SECS_1M [64m]=$SECS_64M)

bench_init /tmp/xobench-results.jsonl
bench_start_cluster
specs=()
for s in "${SIZES[@]}"; do specs+=("obj-$s=${BYTES[$s]}"); done
bench_upload "$BUCKET" "$SETUP_VIA" "${specs[@]}"

# ------------------------------------------------------------- measure

declare -A THR_RATIO TTFB_RATIO
ROWS=()
total_errors=0
for s in "${SIZES[@]}"; do
  bench_warmup "$BUCKET/obj-$s"
  for c in "${CONCS[@]}"; do
    bench_cell "$s" "$c" "${SECS[$s]}" gateway="$XO_S3_ENDPOINT/$BUCKET/obj-$s" direct="$XO_RGW_ENDPOINT/$BUCKET/obj-$s"
    gw=$(bench_aggregate gateway)
    rgw=$(bench_aggregate direct)
    # xo-gateway's CPU time during its own rounds, per second of those rounds.
    gw_cpu=$(awk -v t="$(bench_cell_ticks gateway '["xo-gateway"]')" -v hz="$TICKS_PER_S" -v e="$(field "$gw" elapsed_s)" \
      'BEGIN { printf "%.0f", (e > 0 ? 100 * t / hz / e : 0) }')
    THR_RATIO[$s.$c]=$(ratio "$(field "$gw" mib_s)" "$(field "$rgw" mib_s)")
    TTFB_RATIO[$s.$c]=$(ratio "$(field "$gw" ttfb_p50_ms)" "$(field "$rgw" ttfb_p50_ms)")
    errs="$(field "$gw" errors)/$(field "$rgw" errors)"
    total_errors=$((total_errors + $(field "$gw" errors) + $(field "$rgw" errors)))
    ROWS+=("$(printf '%-4s %4s | %9.1f %8.1f %8s %8s %7s %5s | %9.1f %8.1f %8s %8s %7s | %6s %6s | %s' \
      "$s" "$c" \
      "$(field "$gw" mib_s)" "$(field "$gw" req_s)" "$(num "$gw" lat_p50_ms)" \
      "$(num "$gw" lat_p99_ms)" "$(num "$gw" ttfb_p50_ms)" "$gw_cpu" \
      "$(field "$rgw" mib_s)" "$(field "$rgw" req_s)" "$(num "$rgw" lat_p50_ms)" \
      "$(num "$rgw" lat_p99_ms)" "$(num "$rgw" ttfb_p50_ms)" \
      "${THR_RATIO[$s.$c]}" "${TTFB_RATIO[$s.$c]}" "$errs")")
  done
done

# ------------------------------------------------------------- report

bench_stop_cluster
bench_report \
  "xo-get-load: closed loop, keep-alive; per cell and endpoint ${SECS[4k]}/${SECS[1m]}/${SECS[64m]} s for 4k/1m/64m in $BENCH_ROUNDS alternating rounds" \
  "p50/p99/ttfb50: median over rounds; cpu%: xo-gateway CPU time / gateway run time (100 = one core)" \
  -- \
  "$(printf '%-4s %4s | %-56s | %-50s | %-13s | %s' "" "" \
    "xo-gateway (relay) ${XO_S3_ENDPOINT#http://}" "radosgw direct ${XO_RGW_ENDPOINT#http://}" \
    "gw/direct" "errors")" \
  "$(printf '%-4s %4s | %9s %8s %8s %8s %7s %5s | %9s %8s %8s %8s %7s | %6s %6s | %s' \
    size conc MiB/s req/s p50ms p99ms ttfb50 cpu% MiB/s req/s p50ms p99ms ttfb50 thr ttfb gw/dir)" \
  -- "${ROWS[@]}"
# Headline keys first, then every other ratio.
kv=("relay_64m_c8_ratio=${THR_RATIO[64m.8]:-nan}" "ttfb_4k_c1_ratio=${TTFB_RATIO[4k.1]:-nan}" "errors=$total_errors")
for s in "${SIZES[@]}"; do
  for c in "${CONCS[@]}"; do
    [[ $s.$c == 64m.8 ]] || kv+=("relay_${s}_c${c}_ratio=${THR_RATIO[$s.$c]}")
  done
done
for c in "${CONCS[@]}"; do
  [[ $c == 1 ]] || kv+=("ttfb_4k_c${c}_ratio=${TTFB_RATIO[4k.$c]}")
done
echo "${kv[*]}"
