#!/usr/bin/env bash
# relay.sh — what does relaying GETs through xo-gateway cost, compared with
# talking to radosgw directly?
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs build/qa/bench/xo-get-load and
#    build/rgw_xo/xo-gateway to exist already (cmake --build build).
# 2. Starts a private throwaway cluster, XO_INSTANCE=xobench, with
#    vstart-scripts/xo-vstart.sh, and traps EXIT to stop it again (also on
#    error or Ctrl-C). Another instance running at the same time is fine.
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

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BUILD=${XO_BUILD_DIR:-$ROOT/build}
LOAD=$BUILD/qa/bench/xo-get-load
GATEWAY=${XO_GATEWAY_BIN:-$BUILD/rgw_xo/xo-gateway}  # xo-vstart.sh honours the same variable
VSTART=$ROOT/vstart-scripts/xo-vstart.sh
export XO_INSTANCE=xobench

SECS_4K=${XO_BENCH_SECONDS_4K:-4}
SECS_1M=${XO_BENCH_SECONDS_1M:-4}
SECS_64M=${XO_BENCH_SECONDS_64M:-12}
ROUNDS=${XO_BENCH_ROUNDS:-3}
read -ra CONCS <<<"${XO_BENCH_CONCURRENCY:-1 8 32}"
SETUP_VIA=${XO_BENCH_SETUP_VIA:-rgw}
BUCKET=xobench

log() { printf 'relay.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $LOAD ]] || die "$LOAD not found — build first: cmake -S $ROOT -B $BUILD && cmake --build $BUILD -j2"
[[ -x $GATEWAY ]] || die "$GATEWAY not found — build first: cmake -S $ROOT -B $BUILD && cmake --build $BUILD -j2"
[[ -x $VSTART ]] || die "$VSTART not found or not executable"
((EUID == 0)) || die "must run as root (network namespaces)"
command -v s3cmd >/dev/null || die "s3cmd not found; run scripts/install-deps.sh"

TMP=$(mktemp -d /tmp/xobench.XXXXXX)
OUT=${XO_BENCH_OUT:-/tmp/xobench-results.jsonl}
: >"$OUT"
STARTED=0
stop_cluster() {
  ((STARTED)) || return 0
  STARTED=0
  log "stopping cluster"
  "$VSTART" stop >/dev/null 2>&1 || log "warning: '$VSTART stop' failed"
}
cleanup() {
  local rc=$?
  stop_cluster
  rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- cluster + data

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "starting cluster (XO_INSTANCE=$XO_INSTANCE)"
# A failed start cleans up after itself; only stop what we did start (an
# instance left over from elsewhere makes start refuse, and stays untouched).
"$VSTART" start
STARTED=1
eval "$("$VSTART" env)"
: "${XO_CLIENT_NS:?}" "${XO_S3_ENDPOINT:?}" "${XO_RGW_ENDPOINT:?}" "${XO_S3CFG:?}"

in_client() { ip netns exec "$XO_CLIENT_NS" "$@"; }

S3CMD=(s3cmd -c "$XO_S3CFG" --no-progress)
if [[ $SETUP_VIA == rgw ]]; then
  rgw_hostport=${XO_RGW_ENDPOINT#http://}
  S3CMD+=(--host "$rgw_hostport" --host-bucket "$rgw_hostport")
fi

SIZES=(4k 1m 64m)
declare -A BYTES=([4k]=4096 [1m]=$((1 << 20)) [64m]=$((64 << 20)))
declare -A SECS=([4k]=$SECS_4K [1m]=$SECS_1M [64m]=$SECS_64M)

log "creating bucket s3://$BUCKET and public-read objects (setup via $SETUP_VIA)"
in_client "${S3CMD[@]}" mb "s3://$BUCKET" >/dev/null
for s in "${SIZES[@]}"; do
  head -c "${BYTES[$s]}" /dev/urandom >"$TMP/obj-$s"
  in_client "${S3CMD[@]}" --acl-public put "$TMP/obj-$s" "s3://$BUCKET/obj-$s" >/dev/null
done

# One xo-get-load run inside the client namespace; prints its JSON line.
# A failing run (errors) still prints JSON; only a missing line is fatal.
load() {
  local url=$1 conc=$2 secs=$3 json
  json=$(in_client "$LOAD" --url "$url" --concurrency "$conc" --duration "$secs" \
    --max-seconds "$(awk -v s="$secs" 'BEGIN { print s + 30 }')" --timeout 20 --json 2>>"$TMP/load.err") || true
  [[ $json == \{* ]] || { cat "$TMP/load.err" >&2; die "xo-get-load produced no result for $url"; }
  echo "$json"
}

# Anonymous sanity check: both endpoints must serve every object (HTTP 2xx).
for s in "${SIZES[@]}"; do
  for ep in "$XO_S3_ENDPOINT" "$XO_RGW_ENDPOINT"; do
    in_client "$LOAD" --url "$ep/$BUCKET/obj-$s" --concurrency 1 --requests 1 --json >/dev/null 2>"$TMP/check.err" ||
      { cat "$TMP/check.err" >&2; die "anonymous GET $ep/$BUCKET/obj-$s failed"; }
  done
done

# ------------------------------------------------------------- measure

field() { jq -r ".$2" <<<"$1"; }
# A number with 2 decimals, or "-" for null (no sample).
num() { local v; v=$(field "$1" "$2"); [[ $v == null ]] && echo - || printf '%.2f' "$v"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "null" && b != "null" && b > 0) printf "%.3f", a / b; else print "nan" }'; }

# Aggregate the JSON lines of several rounds (jq -s): throughput over the
# summed bytes and time; latency and TTFB as the median of the per-round
# values (null when no round had a sample).
AGGREGATE='def med: map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  { mib_s: ((map(.bytes) | add) / (map(.elapsed_s) | add) / 1048576),
    req_s: ((map(.requests) | add) / (map(.elapsed_s) | add)),
    elapsed_s: (map(.elapsed_s) | add),
    errors: (map(.errors) | add),
    lat_p50_ms: (map(.lat_p50_ms) | med), lat_p99_ms: (map(.lat_p99_ms) | med),
    ttfb_p50_ms: (map(.ttfb_p50_ms) | med), ttfb_p99_ms: (map(.ttfb_p99_ms) | med) }'

# xo-gateway's CPU time in clock ticks (user + system), to report how much of
# a core relaying costs; empty if the process cannot be found.
GW_PID=$(cat "$XO_RUN_DIR/run/xo-gateway.pid" 2>/dev/null || true)
[[ -n $GW_PID && $(cat "/proc/$GW_PID/comm" 2>/dev/null) == xo-gateway ]] ||
  GW_PID=$(for p in $(ip netns pids "$XO_GATEWAY_NS"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == xo-gateway ]] && echo "$p"; done | head -n1)
gw_ticks() { [[ -n $GW_PID ]] && awk '{ print $14 + $15 }' "/proc/$GW_PID/stat" 2>/dev/null || echo 0; }
TICKS_PER_S=$(getconf CLK_TCK)

declare -A THR_RATIO TTFB_RATIO
ROWS=()
total_errors=0
for s in "${SIZES[@]}"; do
  for ep in "$XO_S3_ENDPOINT" "$XO_RGW_ENDPOINT"; do  # warm-up, not recorded
    load "$ep/$BUCKET/obj-$s" 1 1 >/dev/null
  done
  slice=$(awk -v t="${SECS[$s]}" -v r="$ROUNDS" 'BEGIN { printf "%.3f", t / r }')
  for c in "${CONCS[@]}"; do
    log "size $s concurrency $c: $ROUNDS rounds of gateway and direct, ${slice} s each"
    gw_runs=() rgw_runs=() ticks=0
    for ((r = 0; r < ROUNDS; r++)); do
      for which in $( ((r % 2 == 0)) && echo "gw rgw" || echo "rgw gw"); do
        if [[ $which == gw ]]; then
          t0=$(gw_ticks)
          gw_runs+=("$(load "$XO_S3_ENDPOINT/$BUCKET/obj-$s" "$c" "$slice")")
          ticks=$((ticks + $(gw_ticks) - t0))
        else
          rgw_runs+=("$(load "$XO_RGW_ENDPOINT/$BUCKET/obj-$s" "$c" "$slice")")
        fi
      done
    done
    for j in "${gw_runs[@]}"; do printf '{"size":"%s","target":"gateway","run":%s}\n' "$s" "$j"; done >>"$OUT"
    for j in "${rgw_runs[@]}"; do printf '{"size":"%s","target":"direct","run":%s}\n' "$s" "$j"; done >>"$OUT"
    gw=$(printf '%s\n' "${gw_runs[@]}" | jq -sc "$AGGREGATE")
    rgw=$(printf '%s\n' "${rgw_runs[@]}" | jq -sc "$AGGREGATE")
    gw_cpu=$(awk -v t="$ticks" -v hz="$TICKS_PER_S" -v e="$(field "$gw" elapsed_s)" \
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

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_cluster

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average before $LOAD_BEFORE, at end $LOAD_AFTER"
echo "xo-get-load: closed loop, keep-alive; per cell and endpoint ${SECS[4k]}/${SECS[1m]}/${SECS[64m]} s for 4k/1m/64m in $ROUNDS alternating rounds"
echo "p50/p99/ttfb50: median over rounds; cpu%: xo-gateway CPU time / gateway run time (100 = one core)"
echo "raw results: $OUT"
echo
printf '%-4s %4s | %-56s | %-50s | %-13s | %s\n' "" "" \
  "xo-gateway (relay) ${XO_S3_ENDPOINT#http://}" "radosgw direct ${XO_RGW_ENDPOINT#http://}" \
  "gw/direct" "errors"
printf '%-4s %4s | %9s %8s %8s %8s %7s %5s | %9s %8s %8s %8s %7s | %6s %6s | %s\n' \
  size conc MiB/s req/s p50ms p99ms ttfb50 cpu% MiB/s req/s p50ms p99ms ttfb50 thr ttfb gw/dir
printf '%s\n' "${ROWS[@]}"
echo
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
