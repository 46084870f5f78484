#!/usr/bin/env bash
# offload.sh — what does GET offload buy? XO-Ceph (xo-gateway handing large GETs'
# connections to xo-responders on the OSD hosts) against radosgw directly, in
# the same run (issue 4, point 7).
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs build/qa/bench/xo-get-load, build/rgw_xo/xo-gateway
#    and build/osd_xo/xo-responder to exist already (cmake --build build).
# 2. Starts a private throwaway cluster, XO_INSTANCE=xooffb, with
#    vstart-scripts/xo-vstart.sh, XO_OFFLOAD=1 and XO_OFFLOAD_THRESHOLD=262144
#    (objects larger than that are offloaded, so the 1 MiB objects are too; it
#    also needs build/osd_xo/xo-responder), and traps EXIT to stop it again
#    (also on error or Ctrl-C).
# 3. In the client namespace, s3cmd creates a bucket and uploads public-read
#    random objects of 1 MiB and 64 MiB straight to radosgw (64 MiB goes as
#    s3cmd's multipart upload, 15 MiB parts); an anonymous GET of each through
#    both endpoints must succeed before anything is measured (if one through
#    XO-Ceph fails, the script says what the gateway's offload counters and
#    access log made of it, and stops).
# 4. Cells: 64 MiB at 8 and 32 concurrent keep-alive connections, 1 MiB at 32.
#    Each cell runs xo-get-load in the client namespace against XO-Ceph
#    (xo-gateway, 198.18.0.2:80) and radosgw directly (198.18.0.2:8000) in
#    alternating rounds (xo direct, direct xo), after a short unmeasured warm-up
#    per object size (1 s, 8 connections: enough to reach every xo-gateway
#    worker, each of which connects its own responder links on first use and
#    until then falls back to relaying, fallback:no_responder). Around every round it reads utime + stime
#    (/proc/<pid>/stat) of radosgw and xo-gateway (gateway namespace),
#    xo-responder and ceph-osd (OSD namespaces), after waiting XO_BENCH_SETTLE s
#    so that the teardown of transfers cut off at the end of the round is
#    counted; around every XO round it also scrapes the gateway's and the
#    responders' metrics URLs (from `xo-vstart.sh env`: XO_GATEWAY_METRICS,
#    XO_RESPONDER_METRICS) with curl from the client namespace.
# 5. Per cell and endpoint: throughput (every body byte received, also of
#    objects cut off when a round ends, over the summed round time); latency
#    p50/p99 over completed GETs and TTFB p50 (median of the per-round values;
#    "-" when no GET completed — a 64 MiB GET at 32 connections takes
#    32 x 64 MiB / throughput, ~30 s at 70 MiB/s, so its rounds are 32 s long);
#    and CPU-seconds per GiB delivered to the client:
#      gateway CPU   XO: xo-gateway + radosgw;  direct: radosgw alone
#      responder CPU xo-responder processes summed (XO only; informational)
#      OSD CPU       ceph-osd processes summed (informational)
#    Only process time is counted: kernel work done in softirq context (the
#    gateway's XDP/TC redirect of client ACKs, part of TCP receive processing)
#    is charged to whatever runs at that moment or to ksoftirqd, not to these
#    processes.
#    For XO rounds also, from the metrics deltas: GETs by offload outcome
#    (xo_offload_total{outcome}), the fraction handed to a responder
#    (offloaded + lost: a GET cut off by the end of a round ends as "lost",
#    the client having closed while the responder held it), and body bytes sent
#    by the responders (xo_responder_sent_body_bytes_total) against bytes
#    relayed by the gateway (xo_gateway_relayed_body_bytes_total; the gateway
#    relays the first XO_OFFLOAD_THRESHOLD bytes of an offloaded body itself,
#    so at 1 MiB a quarter of the bytes are the gateway's by design). A number
#    whose source does not exist (no metrics URL, no xo-responder process,
#    a failed scrape) is printed as "-" (nan in the key=value line); the run
#    goes on. A watched process that exits during a round (a responder
#    crashing, say) is named in a warning line above the tables.
# 6. Stops the cluster, then prints: a verdict against the aim (gateway CPU per
#    GiB for 64 MiB through XO-Ceph ≤ 10 % of radosgw's own), the main table
#    (XO, direct, XO/direct ratios), the offload accounting table, and, as the
#    very last line of stdout, machine-readable key=value ratios. About 4
#    minutes on 2 cores (measurement 2 x (20 + 64 + 8) s, the rest start-up,
#    upload, warm-up and settling).
#
# Ratios are XO / direct: throughput (> 1 = XO faster), latency p50/p99
# (< 1 = XO faster), gateway CPU per GiB (0.10 = the aim).
#
# Cluster start/stop, upload, warm-up, the alternating rounds, CPU readings,
# aggregation and the report's frame live in qa/bench/bench_lib.sh, shared with
# qa/bench/relay.sh. Everything runs inside the cluster's network namespaces
# (198.18.0.0/24); nothing is sent anywhere else. The JSON record of every
# round (xo-get-load's result, CPU ticks by process name, metrics deltas) is
# kept in $XO_BENCH_OUT (default /tmp/xooffb-results.jsonl).
#
# Knobs (environment):
#   XO_BENCH_OFFLOAD_THRESHOLD=bytes   passed to vstart as XO_OFFLOAD_THRESHOLD (default 262144)
#   XO_BENCH_CELLS                     "size:concurrency ..." (default "64m:8 64m:32 1m:32";
#                                      sizes 1m and 64m)
#   XO_BENCH_SECONDS_<SIZE>[_C<conc>]  seconds per cell and endpoint, e.g. XO_BENCH_SECONDS_64M_C32;
#                                      without _C<conc> for every cell of that size that has no
#                                      own knob (defaults: 64M_C32 64, 64M 20, 1M 8)
#   XO_BENCH_ROUNDS                    rounds each cell is split into (default 2)
#   XO_BENCH_SETTLE                    seconds waited after each round before reading CPU (default 0.5)
#   XO_BENCH_SETUP_VIA=rgw|gw          where uploads go (default rgw)
#   XO_BENCH_OUT=file                  raw JSON records (default /tmp/xooffb-results.jsonl)
set -Eeuo pipefail

BENCH_NAME=offload.sh
export XO_INSTANCE=xooffb
export XO_OFFLOAD=1
export XO_OFFLOAD_THRESHOLD=${XO_BENCH_OFFLOAD_THRESHOLD:-262144}
BENCH_ROUNDS=${XO_BENCH_ROUNDS:-2}
BENCH_SETTLE=${XO_BENCH_SETTLE:-0.5}
BENCH_CPU_COMMS='^(xo-gateway|radosgw|xo-responder|ceph-osd)$'
# shellcheck source=qa/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

read -ra CELLS <<<"${XO_BENCH_CELLS:-64m:8 64m:32 1m:32}"
SETUP_VIA=${XO_BENCH_SETUP_VIA:-rgw}
BUCKET=xooffb
declare -A BYTES=([1m]=$((1 << 20)) [64m]=$((64 << 20)))

# Seconds per cell and endpoint: XO_BENCH_SECONDS_<SIZE>_C<conc>, else
# XO_BENCH_SECONDS_<SIZE>, else the default.
cell_seconds() {
  local size=${1^^} conc=$2 v
  v=XO_BENCH_SECONDS_${size}_C$conc
  [[ -z ${!v:-} ]] || { echo "${!v}"; return; }
  v=XO_BENCH_SECONDS_$size
  [[ -z ${!v:-} ]] || { echo "${!v}"; return; }
  case $1.$2 in
    64m.32) echo 64 ;;
    64m.*) echo 20 ;;
    *) echo 8 ;;
  esac
}

SIZES=()
for cell in "${CELLS[@]}"; do
  s=${cell%%:*} c=${cell#*:}
  [[ -n ${BYTES[$s]:-} && $c =~ ^[0-9]+$ ]] || die "bad cell '$cell' in XO_BENCH_CELLS (want size:concurrency, size 1m or 64m)"
  [[ " ${SIZES[*]} " == *" $s "* ]] || SIZES+=("$s")
done

# A GET through XO-Ceph failed the sanity check: say what the gateway made of it.
bench_check_failed() {
  [[ $1 == "$XO_S3_ENDPOINT" ]] || return 0
  log "gateway offload counters so far: $(scrape | awk '$1 ~ /^offload\./ && $2 > 0 { printf "%s %s  ", substr($1, 9), $2 }')"
  log "gateway's last access-log line: $(tail -n 1 "${XO_GATEWAY_ACCESS_LOG:-/dev/null}" 2>/dev/null)"
}

SCRAPE_BEFORE=
bench_before_run() { [[ $1 != xo ]] || SCRAPE_BEFORE=$(scrape); }
bench_after_run() {
  [[ $1 == xo ]] || return 0
  BENCH_EXTRA=",\"metrics\":$(metrics_delta "$SCRAPE_BEFORE" "$(scrape)")"
}

# ------------------------------------------------------------- cluster + data

bench_init /tmp/xooffb-results.jsonl
bench_start_cluster
specs=()
for s in "${SIZES[@]}"; do specs+=("obj-$s=${BYTES[$s]}"); done
bench_upload "$BUCKET" "$SETUP_VIA" "${specs[@]}"

# ------------------------------------------------------------- measure

# CPU-seconds per GiB delivered: ticks, bytes → "0.123", or "-".
per_gib() {
  awk -v t="$1" -v b="$2" -v hz="$TICKS_PER_S" -v have="${3:-1}" \
    'BEGIN { if (have && b > 0) printf "%.3f", t / hz / (b / 1073741824); else print "-" }'
}

# A fraction as a percentage with one decimal, "-" for nan.
pct() { if [[ $1 == nan ]]; then echo -; else awk -v f="$1" 'BEGIN { printf "%.1f", 100 * f }'; fi; }

# Offload accounting of the cell's XO rounds, summed over the rounds.
# shellcheck disable=SC2016 # jq variables
OFFLOAD_SUM='map(.metrics) as $m |
  { gw_ok: ($m | length > 0 and all(.gw_up == 1)),
    rsp_ok: ($m | length > 0 and all(.rsp_bytes != null)),
    responders: ([$m[].rsp_up] | max // 0),
    offload: (reduce ($m[] | .offload | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
    gw_bytes: ([$m[].gw_bytes // 0] | add // 0), rsp_bytes: ([$m[].rsp_bytes // 0] | add // 0) } |
  .gets = ([.offload[]] | add // 0) |
  def outcome($o): [.offload | to_entries[] | select(.key == $o or (.key | startswith($o + ":"))) | .value] | add // 0;
  .offloaded = outcome("offloaded") | .lost = outcome("lost") | .relayed_small = outcome("relayed_small") |
  .relayed_ineligible = outcome("relayed_ineligible") | .fallback = outcome("fallback") |
  .not_offloaded = ([.offload | to_entries[] | select(.value > 0 and .key != "offloaded") | "\(.key) \(.value)"] | join(", "))'

declare -A KV
ROWS=() OROWS=() NOTES=() WARNINGS=()
RESPONDERS_MAX=0
total_errors=0
warmed=" "
for cell in "${CELLS[@]}"; do
  s=${cell%%:*} c=${cell#*:}
  if [[ $warmed != *" $s "* ]]; then
    bench_warmup "$BUCKET/obj-$s" 8
    warmed+="$s "
  fi
  bench_cell "$s" "$c" "$(cell_seconds "$s" "$c")" xo="$XO_S3_ENDPOINT/$BUCKET/obj-$s" direct="$XO_RGW_ENDPOINT/$BUCKET/obj-$s"
  xo=$(bench_aggregate xo)
  dir=$(bench_aggregate direct)
  xo_bytes=$(field "$xo" bytes) dir_bytes=$(field "$dir" bytes)
  xo_gw_cpu=$(per_gib "$(bench_cell_ticks xo '["xo-gateway","radosgw"]')" "$xo_bytes")
  xo_xogw_cpu=$(per_gib "$(bench_cell_ticks xo '["xo-gateway"]')" "$xo_bytes")
  xo_rgw_cpu=$(per_gib "$(bench_cell_ticks xo '["radosgw"]')" "$xo_bytes")
  responders=$(bench_cell_procs xo xo-responder)
  ((responders <= RESPONDERS_MAX)) || RESPONDERS_MAX=$responders
  for comm in xo-responder xo-gateway radosgw ceph-osd; do
    for t in xo direct; do
      gone=$(bench_cell_gone "$t" "$comm")
      ((gone == 0)) || WARNINGS+=("warning: $gone $comm process(es) exited during the $t rounds of $s c$c")
    done
  done
  xo_rsp_cpu=$(per_gib "$(bench_cell_ticks xo '["xo-responder"]')" "$xo_bytes" "$((responders > 0))")
  xo_osd_cpu=$(per_gib "$(bench_cell_ticks xo '["ceph-osd"]')" "$xo_bytes")
  dir_gw_cpu=$(per_gib "$(bench_cell_ticks direct '["radosgw"]')" "$dir_bytes")
  dir_osd_cpu=$(per_gib "$(bench_cell_ticks direct '["ceph-osd"]')" "$dir_bytes")

  k=${s}_c$c
  KV[gwcpu_$k]=$(ratio "$xo_gw_cpu" "$dir_gw_cpu")
  KV[thr_$k]=$(ratio "$(field "$xo" mib_s)" "$(field "$dir" mib_s)")
  KV[p50_$k]=$(ratio "$(field "$xo" lat_p50_ms)" "$(field "$dir" lat_p50_ms)")
  KV[p99_$k]=$(ratio "$(field "$xo" lat_p99_ms)" "$(field "$dir" lat_p99_ms)")
  KV[xo_gwcpu_per_gib_$k]=$xo_gw_cpu KV[direct_gwcpu_per_gib_$k]=$dir_gw_cpu
  KV[rspcpu_per_gib_$k]=$xo_rsp_cpu

  errs="$(field "$xo" errors)/$(field "$dir" errors)"
  total_errors=$((total_errors + $(field "$xo" errors) + $(field "$dir" errors)))
  ROWS+=("$(printf '%-4s %4s | %7.1f %8s %8s %7s %8s %9s %9s | %7.1f %8s %8s %7s %8s %9s | %6s %6s %6s %6s | %s' \
    "$s" "$c" \
    "$(field "$xo" mib_s)" "$(num "$xo" lat_p50_ms)" "$(num "$xo" lat_p99_ms)" "$(num "$xo" ttfb_p50_ms)" \
    "$xo_gw_cpu" "$xo_rsp_cpu" "$xo_osd_cpu" \
    "$(field "$dir" mib_s)" "$(num "$dir" lat_p50_ms)" "$(num "$dir" lat_p99_ms)" "$(num "$dir" ttfb_p50_ms)" \
    "$dir_gw_cpu" "$dir_osd_cpu" \
    "${KV[thr_$k]}" "${KV[p50_$k]}" "${KV[p99_$k]}" "${KV[gwcpu_$k]}" "$errs")")

  # Offload accounting ("-" where the metrics or the responders are missing).
  acc=$(printf '%s' "${CELL[xo]}" | jq -sc "$OFFLOAD_SUM")
  if [[ $(field "$acc" gw_ok) == true ]]; then
    read -r gets offl lost small inel fallb gw_b < <(jq -r '[.gets, .offloaded, .lost, .relayed_small, .relayed_ineligible, .fallback, .gw_bytes] | @tsv' <<<"$acc")
    offl_frac=$(ratio "$((offl + lost))" "$gets")
    gw_mib=$(awk -v b="$gw_b" 'BEGIN { printf "%.0f", b / 1048576 }')
  else
    gets=- offl=- lost=- small=- inel=- fallb=- gw_b=- offl_frac=nan gw_mib=-
  fi
  if [[ $(field "$acc" rsp_ok) == true ]]; then
    rsp_b=$(field "$acc" rsp_bytes)
    rsp_mib=$(awk -v b="$rsp_b" 'BEGIN { printf "%.0f", b / 1048576 }')
    if [[ $gw_b == - ]]; then rsp_frac=nan; else rsp_frac=$(ratio "$rsp_b" "$((rsp_b + gw_b))"); fi
  else
    rsp_mib=- rsp_frac=nan
  fi
  KV[offloaded_$k]=$offl_frac KV[rsp_bytes_$k]=$rsp_frac
  NOTES+=("$s c$c: $( [[ $(field "$acc" gw_ok) == true ]] && echo "${gets} GETs; not offloaded: $(field "$acc" not_offloaded | sed 's/^$/none/')" || echo "gateway metrics not available")")
  OROWS+=("$(printf '%-4s %4s | %6s %9s %6s %8s %9s %8s %6s %7s | %8s %8s %8s %6s | %10s | %9s %9s' \
    "$s" "$c" "$gets" "$offl" "$lost" "$fallb" "$small" "$inel" "$(pct "$offl_frac")" "$(field "$xo" cut_off)" \
    "$(awk -v b="$xo_bytes" 'BEGIN { printf "%.0f", b / 1048576 }')" "$gw_mib" "$rsp_mib" "$(pct "$rsp_frac")" \
    "$responders/$(field "$acc" responders)" \
    "$xo_xogw_cpu" "$xo_rgw_cpu")")
done

# ------------------------------------------------------------- report

bench_stop_cluster

# The aim: gateway CPU per GiB at 64 MiB through XO ≤ 10 % of radosgw's own.
aim=() aim_met=yes
for cell in "${CELLS[@]}"; do
  [[ ${cell%%:*} == 64m ]] || continue
  r=${KV[gwcpu_64m_c${cell#*:}]}
  aim+=("c${cell#*:} $r")
  awk -v r="$r" 'BEGIN { exit !(r != "nan" && r <= 0.10) }' || aim_met=no
done
((${#aim[@]})) || aim_met=nan
secs_note=
for cell in "${CELLS[@]}"; do secs_note+="${secs_note:+, }${cell%%:*} c${cell#*:} $(cell_seconds "${cell%%:*}" "${cell#*:}") s"; done
G=${XO_S3_ENDPOINT#http://} R=${XO_RGW_ENDPOINT#http://}

bench_report \
  "xo-get-load: closed loop, keep-alive; per cell and endpoint $secs_note in $BENCH_ROUNDS alternating rounds; settle ${BENCH_SETTLE} s" \
  "offload threshold requested: XO_OFFLOAD_THRESHOLD=$XO_OFFLOAD_THRESHOLD bytes; xo-responder processes seen: $RESPONDERS_MAX; metrics: gateway ${XO_GATEWAY_METRICS:--}, responders ${XO_RESPONDER_METRICS:--}" \
  "p50/p99/ttfb50: ms, median over rounds; */GiB: CPU-seconds (utime + stime, 1/$TICKS_PER_S s steps) per GiB delivered to the client;" \
  "  gw = xo-gateway + radosgw (XO) or radosgw alone (direct); rsp = xo-responder processes; osd = ceph-osd processes" \
  "aim: XO gateway CPU per GiB at 64 MiB <= 0.10 x radosgw's own: ${aim[*]:-no 64m cell} -> $([[ $aim_met == yes ]] && echo met || echo NOT met)" \
  "${WARNINGS[@]}" \
  -- \
  "$(printf '%-4s %4s | %-75s | %-57s | %-27s | %s' "" "" \
    "XO-Ceph: xo-gateway $G, offload > $XO_OFFLOAD_THRESHOLD B" "radosgw direct $R" "XO/direct" "errors")" \
  "$(printf '%-4s %4s | %7s %8s %8s %7s %8s %9s %9s | %7s %8s %8s %7s %8s %9s | %6s %6s %6s %6s | %s' \
    size conc MiB/s p50ms p99ms ttfb50 gw/GiB rsp/GiB osd/GiB MiB/s p50ms p99ms ttfb50 gw/GiB osd/GiB thr p50 p99 gwcpu xo/dir)" \
  -- "${ROWS[@]}"
echo "offload accounting, XO rounds (metrics deltas; '-' = metrics or responders not there)"
echo "  offl% = GETs handed to a responder (offloaded + lost) / GETs; lost = the client's connection ended while a"
echo "  responder held it, which is how every GET cut off by the end of a round ends (client cut_off column)"
printf '%-4s %4s | %-70s | %-35s | %-10s | %s\n' "" "" "GETs radosgw answered 2xx, by outcome (xo_offload_total)" \
  "body MiB: client / gateway / resp." "responders" "gw CPU s/GiB split"
printf '%-4s %4s | %6s %9s %6s %8s %9s %8s %6s %7s | %8s %8s %8s %6s | %10s | %9s %9s\n' \
  size conc GETs offloaded lost fallback rel_small rel_inel offl% cut_off client gateway resp rsp% procs/up xo-gw radosgw
printf '%s\n' "${OROWS[@]}"
echo "GETs not offloaded (returned), by outcome:reason"
printf '  %s\n' "${NOTES[@]}"
echo
# Headline keys first (the aim), then the other ratios and fractions.
kv=()
for cell in "${CELLS[@]}"; do [[ ${cell%%:*} != 64m ]] || kv+=("gwcpu_64m_c${cell#*:}_ratio=${KV[gwcpu_64m_c${cell#*:}]}"); done
kv+=("gwcpu_aim_met=$aim_met" "errors=$total_errors")
for cell in "${CELLS[@]}"; do [[ ${cell%%:*} == 64m ]] || kv+=("gwcpu_${cell%%:*}_c${cell#*:}_ratio=${KV[gwcpu_${cell%%:*}_c${cell#*:}]}"); done
for m in thr p50 p99; do
  for cell in "${CELLS[@]}"; do kv+=("${m}_${cell%%:*}_c${cell#*:}_ratio=${KV[${m}_${cell%%:*}_c${cell#*:}]}"); done
done
for m in offloaded rsp_bytes; do
  for cell in "${CELLS[@]}"; do kv+=("${m}_frac_${cell%%:*}_c${cell#*:}=${KV[${m}_${cell%%:*}_c${cell#*:}]}"); done
done
for m in xo_gwcpu_per_gib direct_gwcpu_per_gib rspcpu_per_gib; do
  for cell in "${CELLS[@]}"; do
    v=${KV[${m}_${cell%%:*}_c${cell#*:}]}
    kv+=("${m}_${cell%%:*}_c${cell#*:}=${v/#-/nan}")
  done
done
echo "${kv[*]}"
