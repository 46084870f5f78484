#!/usr/bin/env bash
# https.sh — HTTPS GETs: XO-Ceph (xo-gateway terminating TLS, responders sealing
# the offloaded rest of the object in TLS records) against radosgw's own TLS, in
# the same run; and the same XO-Ceph over plain HTTP, for what TLS costs the
# responders and the handoff (issue 10 point 5, measured as issue 11 point 1
# asks: wrk, machine load, alternating rounds).
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs build/rgw_xo/xo-gateway, build/osd_xo/xo-responder
#    and build/qa/bench/xo-get-load (bench_lib.sh's upload check), and `wrk`
#    (scripts/install-deps.sh installs it).
# 2. Starts a private throwaway cluster (XO_INSTANCE, default xohttps) with
#    vstart-scripts/xo-vstart.sh, offload ON at vstart's default threshold,
#    and traps EXIT to stop it again (also on error or Ctrl-C). vstart's env
#    gives the endpoints: XO_S3_HTTPS_ENDPOINT (xo-gateway :443),
#    XO_RGW_HTTPS_ENDPOINT (radosgw's own ssl_endpoint :8443), XO_CA_FILE,
#    XO_S3_ENDPOINT (:80), XO_RGW_ENDPOINT (:8000). Without the HTTPS ones (a
#    vstart from before HTTPS) it measures the HTTP modes only and says so;
#    XO_BENCH_MODES chooses modes.
# 3. Uploads public-read random objects of 64 MiB and 4 KiB straight to
#    radosgw; every measured URL must then serve the whole object to curl (over
#    HTTPS verifying the chain against XO_CA_FILE) before anything is measured.
# 4. Measures, with wrk in the client namespace (one thread, keep-alive, its
#    exact totals from qa/bench/wrk_json.lua), in alternating rounds
#    (bench_cell: a b c d, d c b a, a b c d):
#      64 MiB, 8 connections, modes xo-https, rgw-https, xo-http, rgw-http;
#      4 KiB, 1 connection, keep-alive: latency p50/p99, xo-https vs rgw-https;
#      4 KiB, 1 connection, `Connection: close`: every GET pays a TCP and TLS
#        handshake; wrk's latency starts after the handshake, so the number
#        shown is the time per GET (round time / GETs), handshake included.
#    Around every round: CPU time (utime + stime from /proc/<pid>/stat) of
#    xo-gateway, each radosgw instance apart (radosgw.gw behind the gateway,
#    radosgw.direct for the direct modes), xo-responder, ceph-osd and ceph-mon;
#    for XO rounds the gateway's and responders' metrics (offload outcomes,
#    bytes by sender, xo_handoff_seconds count and sum); the 1-minute load
#    average before and after, with a WARN when it is above 1.5 before a round.
# 5. Prints per mode: MiB/s (median of the rounds, and each round), CPU-s per
#    GiB read by wrk per process group, errors (wrk's socket errors, timeouts,
#    non-2xx/3xx), handoffs and their mean time; then the ratios XO/radosgw
#    over HTTPS and HTTPS/HTTP for XO; the 4 KiB lines; and, as the very last
#    line of stdout, machine-readable key=value pairs. About 3.5 minutes.
#
# Everything runs inside the cluster's network namespaces (198.18.0.0/24).
# Every round's JSON record is kept in $XO_BENCH_OUT (default
# /tmp/xohttps-results.jsonl).
#
# Knobs (environment):
#   XO_INSTANCE=name          the cluster's instance name (default xohttps)
#   XO_BENCH_ROUNDS           rounds per cell and mode (default 3)
#   XO_BENCH_SECONDS          seconds per 64 MiB round (default 10)
#   XO_BENCH_SMALL_SECONDS    seconds per 4 KiB round (default 4)
#   XO_BENCH_SETTLE           seconds waited after each round before reading CPU (default 0.5)
#   XO_BENCH_MODES            64 MiB modes, in round order (default "xo-https rgw-https xo-http
#                             rgw-http"; HTTP ones only if vstart serves no HTTPS); the 4 KiB cells
#                             take the HTTPS pair if both are chosen, else the HTTP pair
#   XO_BENCH_OUT=file         raw JSON records
set -Eeuo pipefail

BENCH_NAME=https.sh
export XO_INSTANCE=${XO_INSTANCE:-xohttps}
export XO_OFFLOAD=1
unset XO_OFFLOAD_THRESHOLD  # vstart's default
BENCH_ROUNDS=${XO_BENCH_ROUNDS:-3}
BENCH_SETTLE=${XO_BENCH_SETTLE:-0.5}
BENCH_CPU_COMMS='^(xo-gateway|radosgw|xo-responder|ceph-osd|ceph-mon)$'
BENCH_CPU_SPLIT_RGW=1
BENCH_LOAD_FN=bench_wrk
# shellcheck source=qa/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

SECS=${XO_BENCH_SECONDS:-10}
SMALL_SECS=${XO_BENCH_SMALL_SECONDS:-4}
BUCKET=xohttps
BIG=$((64 << 20)) SMALL=4096
# Process groups of the CPU table, in order; radosgw.gw serves xo-gateway, radosgw.direct the direct modes.
GROUPS_=(xo-gateway radosgw.gw radosgw.direct xo-responder ceph-osd ceph-mon)

command -v wrk >/dev/null || die "wrk not found; run scripts/install-deps.sh"

# ------------------------------------------------------------- metrics hooks

SCRAPE_BEFORE=
bench_before_run() { [[ $1 != xo-* ]] || SCRAPE_BEFORE=$(scrape); }
bench_after_run() {
  [[ $1 == xo-* ]] || return 0
  BENCH_EXTRA=",\"metrics\":$(metrics_delta "$SCRAPE_BEFORE" "$(scrape)")"
}

# ------------------------------------------------------------- cluster + data

bench_init "/tmp/$XO_INSTANCE-results.jsonl"
bench_start_cluster
bench_upload "$BUCKET" rgw "obj-64m=$BIG" "obj-4k=$SMALL"

declare -A EP=([xo-http]=$XO_S3_ENDPOINT [rgw-http]=$XO_RGW_ENDPOINT)
if [[ -n ${XO_S3_HTTPS_ENDPOINT:-} && -n ${XO_RGW_HTTPS_ENDPOINT:-} && -n ${XO_CA_FILE:-} ]]; then
  EP[xo-https]=$XO_S3_HTTPS_ENDPOINT EP[rgw-https]=$XO_RGW_HTTPS_ENDPOINT
  read -ra MODES <<<"${XO_BENCH_MODES:-xo-https rgw-https xo-http rgw-http}"
else
  log "WARN: vstart printed no XO_S3_HTTPS_ENDPOINT/XO_RGW_HTTPS_ENDPOINT/XO_CA_FILE: measuring HTTP only"
  MODES=(xo-http rgw-http)
fi
for m in "${MODES[@]}"; do [[ -n ${EP[$m]:-} ]] || die "mode '$m' in XO_BENCH_MODES: unknown or not served by this cluster (have: ${!EP[*]})"; done
has() { [[ " ${MODES[*]} " == *" $1 "* ]]; }
# The 4 KiB cells compare XO and radosgw over HTTPS, else over HTTP.
SMALL_MODES=()
if has xo-https && has rgw-https; then SMALL_MODES=(xo-https rgw-https); elif has xo-http && has rgw-http; then SMALL_MODES=(xo-http rgw-http); fi

# Every measured URL serves the whole object (HTTPS: chain verified by curl).
for m in "${MODES[@]}"; do
  for spec in "obj-64m=$BIG" "obj-4k=$SMALL"; do
    got=$(in_client curl -sS --max-time 60 ${XO_CA_FILE:+--cacert "$XO_CA_FILE"} -o /dev/null \
      -w '%{http_code} %{size_download}' "${EP[$m]}/$BUCKET/${spec%%=*}" 2>&1) || true
    [[ $got == "200 ${spec#*=}" ]] || die "$m: GET ${EP[$m]}/$BUCKET/${spec%%=*} gave '$got', want '200 ${spec#*=}'"
  done
done
log "every endpoint serves both objects: ${MODES[*]}"

# ------------------------------------------------------------- measure

# Unmeasured warm-up: 1 s per mode (connections, TLS session caches, responders' RADOS sessions).
for m in "${MODES[@]}"; do bench_wrk "${EP[$m]}/$BUCKET/obj-64m" 8 1 >/dev/null; done
for m in "${SMALL_MODES[@]}"; do bench_wrk "${EP[$m]}/$BUCKET/obj-4k" 1 1 >/dev/null; done

# One cell's records per mode, kept after bench_cell's CELL is reused.
declare -A BIGREC SMALLREC CLOSEREC
specs=()
for m in "${MODES[@]}"; do specs+=("$m=${EP[$m]}/$BUCKET/obj-64m"); done
bench_cell 64m 8 $((SECS * BENCH_ROUNDS)) "${specs[@]}"
for m in "${MODES[@]}"; do BIGREC[$m]=${CELL[$m]}; done

if ((${#SMALL_MODES[@]})); then
  specs=()
  for m in "${SMALL_MODES[@]}"; do specs+=("$m=${EP[$m]}/$BUCKET/obj-4k"); done
  bench_cell 4k 1 $((SMALL_SECS * BENCH_ROUNDS)) "${specs[@]}"
  for m in "${SMALL_MODES[@]}"; do SMALLREC[$m]=${CELL[$m]}; done
  BENCH_WRK_ARGS=(-H 'Connection: close')
  bench_cell 4k-close 1 $((SMALL_SECS * BENCH_ROUNDS)) "${specs[@]}"
  BENCH_WRK_ARGS=()
  for m in "${SMALL_MODES[@]}"; do CLOSEREC[$m]=${CELL[$m]}; done
fi

bench_stop_cluster

# ------------------------------------------------------------- numbers

# Per mode, from its records: MiB/s median and per round, GiB read, CPU-s/GiB
# per group (and all groups), errors by kind, handoffs and their mean, offload
# outcomes, share of body bytes the responders sent.
# shellcheck disable=SC2016 # jq variables
SUMMARY='def med: map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  (map(.run.bytes) | add) as $bytes | ($bytes / 1073741824) as $gib |
  { mib_s: (map(.run.bytes / .run.elapsed_s / 1048576) | med),
    rounds: (map(.run.bytes / .run.elapsed_s / 1048576 * 10 | round / 10)),
    gib: $gib, requests: (map(.run.requests) | add), elapsed_s: (map(.run.elapsed_s) | add),
    lat_p50_ms: (map(.run.lat_p50_ms) | med), lat_p99_ms: (map(.run.lat_p99_ms) | med),
    errors: (map(.run.errors) | add),
    err: (reduce (.[].run.err | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
    cpu: (reduce (.[].cpu.ticks | to_entries[]) as $e ({}; .[$e.key] += $e.value)
          | with_entries(.value = (if $gib > 0 then .value / $hz / $gib else null end))),
    gone: (reduce (.[].cpu.gone | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
    load: [.[].load[0]],
    handoffs: (if any(.[]; .metrics.handoffs == null) then null else (map(.metrics.handoffs) | add) end),
    handoff_s: (if any(.[]; .metrics.handoff_s == null) then null else (map(.metrics.handoff_s) | add) end),
    offload: (reduce (.[].metrics.offload // {} | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
    handoff_le: (reduce (.[].metrics.handoff_le // {} | to_entries[]) as $e ({}; .[$e.key] += $e.value)
      | to_entries | map({le: (if .key == "+Inf" then infinite else .key | tonumber end), n: .value}) | sort_by(.le)),
    rsp_bytes: (if any(.[]; .metrics.rsp_bytes == null) then null else (map(.metrics.rsp_bytes) | add) end),
    gw_bytes: (if any(.[]; .metrics.gw_bytes == null) then null else (map(.metrics.gw_bytes) | add) end) } |
  .cpu_total = ([.cpu[]] | add) |
  .handoff_mean_us = (if (.handoffs // 0) > 0 then .handoff_s / .handoffs * 1e6 else null end) |
  def bound($q): (.handoff_le[-1].n // 0) as $n |
    if $n == 0 then null else [.handoff_le[] | select(.n >= $q * $n) | .le * 1e6][0] end;
  .handoff_p50_us = bound(0.5) | .handoff_p99_us = bound(0.99) |
  .gets = ([.offload[]] | add) |
  .offloaded = ([.offload | to_entries[] | select(.key == "offloaded" or (.key | startswith("lost"))) | .value] | add) |
  .not_offloaded = ([.offload | to_entries[] | select(.value > 0 and .key != "offloaded" and (.key | startswith("lost") | not)) | "\(.key) \(.value)"] | join(", ")) |
  .rsp_frac = (if .rsp_bytes != null and .gw_bytes != null and (.rsp_bytes + .gw_bytes) > 0 then .rsp_bytes / (.rsp_bytes + .gw_bytes) else null end)'
summary() { printf '%s' "$1" | jq -sc --argjson hz "$TICKS_PER_S" "$SUMMARY"; }
# A JSON path of a summary as a number with DEC decimals, "-" for null.
fmt() { jq -r --argjson d "${3:-2}" "$2 | if . == null then \"-\" else (. * pow(10; \$d) | round / pow(10; \$d) | tostring) end" <<<"$1"; }

declare -A S KV
for m in "${MODES[@]}"; do S[$m]=$(summary "${BIGREC[$m]}"); done
for m in "${SMALL_MODES[@]}"; do S[$m.4k]=$(summary "${SMALLREC[$m]}") S[$m.close]=$(summary "${CLOSEREC[$m]}"); done

WARNINGS=()
total_errors=0
for k in "${!S[@]}"; do
  e=$(field "${S[$k]}" errors)
  total_errors=$((total_errors + e))
  ((e == 0)) || WARNINGS+=("WARN: $k: $e wrk errors $(jq -c '.err | with_entries(select(.value > 0))' <<<"${S[$k]}") (status = non-2xx/3xx answers)")
  g=$(jq -r '.gone | to_entries | map("\(.value) \(.key)") | join(", ")' <<<"${S[$k]}")
  [[ -z $g ]] || WARNINGS+=("WARN: $k: process(es) exited during the rounds: $g")
done
((BENCH_NOISY_ROUNDS == 0)) || WARNINGS+=("WARN: $BENCH_NOISY_ROUNDS round(s) began with a 1-minute load above $BENCH_QUIET_LOAD (see the log): not a quiet machine")

# 64 MiB table
ROWS=()
for m in "${MODES[@]}"; do
  s=${S[$m]}
  row=$(printf '| %-9s | %7s | %-20s | %5s |' "$m" "$(fmt "$s" .mib_s 1)" "$(jq -r '.rounds | map(tostring) | join(" ")' <<<"$s")" "$(fmt "$s" .gib 1)")
  for g in "${GROUPS_[@]}"; do row+=$(printf ' %6s |' "$(fmt "$s" ".cpu[\"$g\"] // 0" 3)"); done
  row+=$(printf ' %6s | %6s | %8s | %16s | %s |' "$(fmt "$s" .cpu_total 3)" "$(field "$s" errors)" \
    "$([[ $m == xo-* ]] && echo "$(fmt "$s" .offloaded 0)/$(fmt "$s" .gets 0)" || echo -)" \
    "$([[ $m == xo-* ]] && echo "$(fmt "$s" .handoff_mean_us 0) / $(fmt "$s" .handoff_p50_us 0) / $(fmt "$s" .handoff_p99_us 0)" || echo -)" "$(jq -r '.load | map(tostring) | join(" ")' <<<"$s")")
  ROWS+=("$row")
done
HEAD=$(printf '| %-9s | %7s | %-20s | %5s |' mode MiB/s "MiB/s per round" GiB)
SEP='|---|---|---|---|'
for g in "${GROUPS_[@]}"; do HEAD+=$(printf ' %6s |' "$g"); SEP+='---|'; done
HEAD+=$(printf ' %6s | %6s | %8s | %16s | %s |' "all" errors "offl/GETs" "handoff µs mean / p50≤ / p99≤" "load before rounds")
SEP+='---|---|---|---|---|'

# Ratios: throughput, gateway-host CPU (XO: xo-gateway + radosgw.gw; direct: radosgw.direct), OSD, all.
ghost() { jq '(.cpu["xo-gateway"] // 0) + (.cpu["radosgw.gw"] // 0) + (.cpu["radosgw.direct"] // 0) + (.cpu["ceph-mon"] // 0)' <<<"$1"; }
RATIO_LINES=()
pair() {  # pair NAME XO_MODE OTHER_MODE
  local x=${S[$2]} o=${S[$3]}
  KV[${1}_thr]=$(ratio "$(field "$x" mib_s)" "$(field "$o" mib_s)")
  KV[${1}_gwhost_cpu]=$(ratio "$(ghost "$x")" "$(ghost "$o")")
  KV[${1}_osd_cpu]=$(ratio "$(field "$x" '["cpu"]["ceph-osd"]')" "$(field "$o" '["cpu"]["ceph-osd"]')")
  KV[${1}_all_cpu]=$(ratio "$(field "$x" cpu_total)" "$(field "$o" cpu_total)")
  RATIO_LINES+=("$2 / $3: throughput ${KV[${1}_thr]}, CPU-s/GiB gateway host (xo-gateway + radosgw + mon) ${KV[${1}_gwhost_cpu]}, ceph-osd ${KV[${1}_osd_cpu]}, all watched ${KV[${1}_all_cpu]}")
}
! { has xo-https && has rgw-https; } || pair https xo-https rgw-https
! { has xo-http && has rgw-http; } || pair http xo-http rgw-http
! { has rgw-https && has rgw-http; } || pair rgw_tls_cost rgw-https rgw-http
if has xo-https && has xo-http; then
  KV[xo_tls_rsp_cpu]=$(ratio "$(field "${S[xo-https]}" '["cpu"]["xo-responder"]')" "$(field "${S[xo-http]}" '["cpu"]["xo-responder"]')")
  KV[xo_tls_handoff]=$(ratio "$(field "${S[xo-https]}" handoff_mean_us)" "$(field "${S[xo-http]}" handoff_mean_us)")
  KV[xo_tls_gw_cpu]=$(ratio "$(field "${S[xo-https]}" '["cpu"]["xo-gateway"]')" "$(field "${S[xo-http]}" '["cpu"]["xo-gateway"]')")
  RATIO_LINES+=("xo-https / xo-http (what TLS costs XO): xo-responder CPU-s/GiB ${KV[xo_tls_rsp_cpu]} ($(fmt "${S[xo-https]}" '.cpu["xo-responder"]' 3) vs $(fmt "${S[xo-http]}" '.cpu["xo-responder"]' 3)), handoff mean ${KV[xo_tls_handoff]} ($(fmt "${S[xo-https]}" .handoff_mean_us 0) vs $(fmt "${S[xo-http]}" .handoff_mean_us 0) µs; p50 <= $(fmt "${S[xo-https]}" .handoff_p50_us 0) vs $(fmt "${S[xo-http]}" .handoff_p50_us 0) µs), xo-gateway CPU-s/GiB ${KV[xo_tls_gw_cpu]}")
fi

# 4 KiB lines
SMALL_LINES=()
per_get() { jq 'if .requests > 0 then .elapsed_s / .requests else null end' <<<"$1"; }
for m in "${SMALL_MODES[@]}"; do
  k=${S[$m.4k]} c=${S[$m.close]}
  SMALL_LINES+=("$(printf '%-9s keep-alive p50 %6s ms, p99 %6s ms, %7s GETs/s | new connection per GET: %6s ms per GET (handshake included), p50 after the handshake %6s ms, errors %s/%s' \
    "$m" "$(fmt "$k" .lat_p50_ms 3)" "$(fmt "$k" .lat_p99_ms 3)" "$(jq -r '.requests / .elapsed_s | round' <<<"$k")" \
    "$(per_get "$c" | jq -r 'if . == null then "-" else (. * 1000 * 100 | round / 100 | tostring) end')" "$(fmt "$c" .lat_p50_ms 3)" "$(field "$k" errors)" "$(field "$c" errors)")")
done
if ((${#SMALL_MODES[@]})); then
  a=${SMALL_MODES[0]} b=${SMALL_MODES[1]}
  KV[small_p50]=$(ratio "$(field "${S[$a.4k]}" lat_p50_ms)" "$(field "${S[$b.4k]}" lat_p50_ms)")
  KV[small_close_per_get]=$(ratio "$(per_get "${S[$a.close]}")" "$(per_get "${S[$b.close]}")")
  SMALL_LINES+=("$a / $b: keep-alive p50 ${KV[small_p50]}, time per GET with a new connection each ${KV[small_close_per_get]}")
else
  SMALL_LINES+=("(not measured: the modes chosen have no XO/radosgw pair)")
fi

# ------------------------------------------------------------- report

NOT_OFFL=()
for m in "${MODES[@]}"; do
  [[ $m == xo-* ]] || continue
  NOT_OFFL+=("$m: $(fmt "${S[$m]}" .gets 0) GETs answered, $(fmt "${S[$m]}" .offloaded 0) handed to a responder (lost = cut off at the end of a round, counted as handed), not offloaded: $(jq -r '.not_offloaded | if . == "" then "none" else . end' <<<"${S[$m]}"); responders sent $(jq -r 'if .rsp_frac == null then "-" else (.rsp_frac * 1000 | round / 10 | tostring) end' <<<"${S[$m]}") % of the body bytes")
done
bench_report \
  "wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'): -t1 --timeout 60s, keep-alive; 64 MiB: -c8, $BENCH_ROUNDS alternating rounds of $SECS s per mode; 4 KiB: -c1, $BENCH_ROUNDS rounds of $SMALL_SECS s per mode, keep-alive and with 'Connection: close'; settle $BENCH_SETTLE s" \
  "offload on, threshold ${XO_OFFLOAD_THRESHOLD:-?} bytes (vstart default); endpoints: $(for m in "${MODES[@]}"; do printf '%s %s  ' "$m" "${EP[$m]}"; done)" \
  "CPU columns: CPU-seconds (utime + stime, 1/$TICKS_PER_S s steps) per GiB read by wrk (headers and bodies), summed over the mode's rounds;" \
  "  radosgw.gw = the radosgw behind xo-gateway, radosgw.direct = the one the rgw-* modes talk to; xo-responder and ceph-osd summed over hosts" \
  "handoff µs: xo_handoff_seconds (block to GO) over the mode's handoffs: mean, and the histogram bucket bounds holding the 50th and 99th percentile" \
  "offl/GETs: GETs handed to a responder / 2xx GETs (gateway metrics)" \
  "${WARNINGS[@]}" \
  -- "64 MiB, 8 connections" "$HEAD" "$SEP" -- "${ROWS[@]}"
printf '%s\n' "${NOT_OFFL[@]}" "" "ratios (64 MiB):" "${RATIO_LINES[@]/#/  }" "" "4 KiB, 1 connection (latency: median of the rounds' p50/p99):" "${SMALL_LINES[@]/#/  }" ""
kv=("modes=$(IFS=,; echo "${MODES[*]}")" "errors=$total_errors" "noisy_rounds=$BENCH_NOISY_ROUNDS")
for k in $(printf '%s\n' "${!KV[@]}" | sort); do kv+=("${k}_ratio=${KV[$k]}"); done
for m in "${MODES[@]}"; do kv+=("${m//-/_}_mib_s=$(fmt "${S[$m]}" .mib_s 1)"); done
echo "${kv[*]}"
