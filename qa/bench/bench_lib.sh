# shellcheck shell=bash
# bench_lib.sh — what the GET benchmarks qa/bench/relay.sh, qa/bench/offload.sh
# and qa/bench/https.sh share. Source it (it does nothing by itself); the
# caller runs under `set -Eeuo pipefail`.
#
# Theory of operation
# -------------------
# A benchmark script sets BENCH_NAME (its log prefix) and exports XO_INSTANCE
# (its private cluster), then calls, in this order:
#
#   bench_init DEFAULT_OUT     checks (root, binaries, s3cmd, jq, curl), a temp
#                              dir, the raw-results file ($XO_BENCH_OUT or
#                              DEFAULT_OUT, truncated), and the EXIT trap that
#                              stops the cluster (if we started it) and removes
#                              the temp dir — also on error or Ctrl-C.
#   bench_start_cluster        xo-vstart.sh start with the caller's exported
#                              environment, then eval of `xo-vstart.sh env`
#                              (XO_CLIENT_NS, XO_S3_ENDPOINT, ...).
#   bench_upload BUCKET VIA NAME=BYTES...
#                              bucket + public-read random objects NAME, sent
#                              to radosgw directly (VIA=rgw) or through
#                              xo-gateway (VIA=gw); then one anonymous GET of
#                              every object through both endpoints must succeed
#                              (if not, the optional hook bench_check_failed
#                              ENDPOINT may log diagnostics before the exit).
#   bench_warmup OBJECT [CONC] one unmeasured 1 s run with CONC connections
#                              (default 1) against each endpoint.
#   bench_cell SIZE CONC SECS A=URL B=URL [C=URL...]
#                              one cell: $BENCH_ROUNDS rounds of SECS/ROUNDS
#                              seconds each, targets alternating (A B, B A,
#                              A B, ...; with more targets forward, backward,
#                              ...) so that load from anything else on the
#                              machine hits all about equally. Every run is one
#                              $BENCH_LOAD_FN URL CONC SECONDS in the client
#                              namespace: bench_load (xo-get-load, default) or
#                              bench_wrk (wrk, extra arguments from the array
#                              BENCH_WRK_ARGS); both print one JSON line with
#                              bytes, elapsed_s, requests, errors, lat_p50_ms,
#                              lat_p99_ms. The 1-minute load average is logged
#                              before and after every round, with a WARN (and
#                              BENCH_NOISY_ROUNDS counted up) when it is above
#                              BENCH_QUIET_LOAD (default 1.5) before one.
#                              Around the run the CPU time of the watched
#                              processes (below) is read, and the optional hooks bench_before_run
#                              TARGET / bench_after_run TARGET JSON run (an
#                              after-hook may set BENCH_EXTRA to ',"key":value'
#                              to add fields to the record). Each run becomes
#                              one JSON record {"size","target","round","load"
#                              [before,after],"run","cpu"[,extra]};
#                              CELL[TARGET] holds the cell's records
#                              (one per line) and all are appended to the raw
#                              results file.
#   bench_aggregate TARGET     the cell's runs of TARGET summed up (jq): MiB/s
#                              and req/s over the summed bytes and time; latency
#                              and TTFB p50/p99 as the median of the per-round
#                              values (null when no round had a sample).
#   bench_stop_cluster         note the load average, stop now (the EXIT trap
#                              would do it anyway).
#   bench_report NOTE... -- HEADER... -- ROW...
#                              the machine line, the notes, the raw-results
#                              path, a blank line, the table, a blank line.
#                              The caller prints its key=value line last.
#
# Metrics: scrape prints the counters of the gateway and the responders
# ($XO_GATEWAY_METRICS, $XO_RESPONDER_METRICS) as "key value" lines and
# metrics_delta BEFORE AFTER turns two scrapes into JSON (offload outcomes,
# body bytes by sender, handoff count and summed seconds).
#
# CPU time: BENCH_CPU_COMMS (an awk regex on /proc/<pid>/comm) selects the
# processes, in the cluster's gateway and OSD namespaces, whose utime + stime
# (/proc/<pid>/stat, clock ticks) is read before and after every run; the
# record's "cpu" is {"ticks":{comm: delta summed over that comm's processes},
# "procs":{comm: how many}, "gone":{comm: how many exited during the run}}. Processes are matched by pid, so one that starts
# during a run counts from zero and one that exits is dropped. BENCH_SETTLE
# seconds (default 0) are waited after each run before the "after" reading, so
# that work the run caused but the servers finish a moment later (tearing down
# cut-off transfers, counters) is inside the window; every target gets it.
# With BENCH_CPU_SPLIT_RGW=1 each radosgw instance is its own comm,
# "radosgw.<name>" after its `-n client.rgw.<name>`.
#
# Everything runs inside the cluster's network namespaces (198.18.0.0/24).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BUILD=${XO_BUILD_DIR:-$BENCH_ROOT/build}
LOAD=$BENCH_BUILD/qa/bench/xo-get-load
GATEWAY=${XO_GATEWAY_BIN:-$BENCH_BUILD/rgw_xo/xo-gateway}  # xo-vstart.sh honours the same variable
VSTART=$BENCH_ROOT/vstart-scripts/xo-vstart.sh
BENCH_NAME=${BENCH_NAME:-bench}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_SETTLE=${BENCH_SETTLE:-0}
BENCH_CPU_COMMS=${BENCH_CPU_COMMS:-^xo-gateway\$}
BENCH_CPU_SPLIT_RGW=${BENCH_CPU_SPLIT_RGW:-0}
BENCH_LOAD_FN=${BENCH_LOAD_FN:-bench_load}
BENCH_QUIET_LOAD=${BENCH_QUIET_LOAD:-1.5}
BENCH_NOISY_ROUNDS=0
BENCH_WRK_ARGS=()
declare -A CELL=()
BENCH_EXTRA=

log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------- set-up and teardown

bench_init() {
  [[ -x $LOAD ]] || die "$LOAD not found — build first: cmake -S $BENCH_ROOT -B $BENCH_BUILD && cmake --build $BENCH_BUILD -j2"
  [[ -x $GATEWAY ]] || die "$GATEWAY not found — build first: cmake -S $BENCH_ROOT -B $BENCH_BUILD && cmake --build $BENCH_BUILD -j2"
  [[ -x $VSTART ]] || die "$VSTART not found or not executable"
  ((EUID == 0)) || die "must run as root (network namespaces)"
  local tool
  for tool in s3cmd jq curl; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh"
  done
  TMP=$(mktemp -d "/tmp/$XO_INSTANCE.XXXXXX")
  OUT=${XO_BENCH_OUT:-$1}
  : >"$OUT"
  STARTED=0
  # shellcheck disable=SC2034 # the callers use it
  TICKS_PER_S=$(getconf CLK_TCK)
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_stop_cluster() {
  ((STARTED)) || return 0
  STARTED=0
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)  # before the stop itself loads the machine
  log "stopping cluster"
  "$VSTART" stop >/dev/null 2>&1 || log "warning: '$VSTART stop' failed"
}

bench_cleanup() {
  local rc=$?
  bench_stop_cluster
  rm -rf -- "$TMP"
  exit "$rc"
}

bench_start_cluster() {
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  log "starting cluster (XO_INSTANCE=$XO_INSTANCE)"
  # A failed start cleans up after itself; only stop what we did start (an
  # instance left over from elsewhere makes start refuse, and stays untouched).
  "$VSTART" start
  STARTED=1
  # Only what this instance's env prints counts (not leftovers of another eval).
  unset XO_GATEWAY_METRICS XO_RESPONDER_METRICS XO_OSD_NSES XO_S3_HTTPS_ENDPOINT XO_RGW_HTTPS_ENDPOINT XO_CA_FILE
  eval "$("$VSTART" env)"
  : "${XO_CLIENT_NS:?}" "${XO_S3_ENDPOINT:?}" "${XO_RGW_ENDPOINT:?}" "${XO_S3CFG:?}" "${XO_GATEWAY_NS:?}"
  # Inodes of the namespaces whose processes' CPU time is read (gateway, OSD hosts).
  local ns
  BENCH_NS_INODES=
  for ns in "$XO_GATEWAY_NS" ${XO_OSD_NSES:-}; do
    BENCH_NS_INODES+=" $(stat -L -c %i "/run/netns/$ns")"
  done
}

in_client() { ip netns exec "$XO_CLIENT_NS" "$@"; }

bench_upload() {
  local bucket=$1 via=$2 spec name bytes ep
  shift 2
  local s3=(s3cmd -c "$XO_S3CFG" --no-progress)
  if [[ $via == rgw ]]; then
    local rgw_hostport=${XO_RGW_ENDPOINT#http://}
    s3+=(--host "$rgw_hostport" --host-bucket "$rgw_hostport")
  fi
  log "creating bucket s3://$bucket and public-read objects (setup via $via)"
  in_client "${s3[@]}" mb "s3://$bucket" >/dev/null
  for spec; do
    name=${spec%%=*} bytes=${spec#*=}
    head -c "$bytes" /dev/urandom >"$TMP/$name"
    in_client "${s3[@]}" --acl-public put "$TMP/$name" "s3://$bucket/$name" >/dev/null
    rm -f -- "$TMP/$name"
  done
  # Anonymous sanity check: both endpoints must serve every object (HTTP 2xx).
  for spec; do
    name=${spec%%=*}
    for ep in "$XO_S3_ENDPOINT" "$XO_RGW_ENDPOINT"; do
      in_client "$LOAD" --url "$ep/$bucket/$name" --concurrency 1 --requests 1 --json >/dev/null 2>"$TMP/check.err" || {
        cat "$TMP/check.err" >&2
        if declare -F bench_check_failed >/dev/null; then bench_check_failed "$ep" || true; fi
        die "anonymous GET $ep/$bucket/$name failed"
      }
    done
  done
}

# ------------------------------------------------------------- load

# One xo-get-load run inside the client namespace; prints its JSON line.
# A failing run (errors) still prints JSON; only a missing line is fatal.
bench_load() {
  local url=$1 conc=$2 secs=$3 json
  json=$(in_client "$LOAD" --url "$url" --concurrency "$conc" --duration "$secs" \
    --max-seconds "$(awk -v s="$secs" 'BEGIN { print s + 30 }')" --timeout 20 --json 2>>"$TMP/load.err") || true
  [[ $json == \{* ]] || { cat "$TMP/load.err" >&2; die "xo-get-load produced no result for $url"; }
  echo "$json"
}

# One wrk run in the client namespace (one thread, CONC connections, SECS
# rounded to whole seconds — wrk takes no fractions —, extra arguments from the
# array BENCH_WRK_ARGS); prints the JSON line of qa/bench/wrk_json.lua, whose
# fields bytes, elapsed_s, requests, errors, lat_p50_ms and lat_p99_ms mean
# what xo-get-load's do. wrk's own text goes to $TMP/wrk.out.
bench_wrk() {
  local url=$1 conc=$2 secs out json
  secs=$(awk -v s="$3" 'BEGIN { s = int(s + 0.5); print (s < 1 ? 1 : s) }')
  out=$(in_client timeout "$((secs + 90))" wrk -t1 -c"$conc" -d"${secs}s" --timeout 60s \
    -s "$BENCH_ROOT/qa/bench/wrk_json.lua" "${BENCH_WRK_ARGS[@]}" "$url" 2>>"$TMP/load.err") || true
  printf '%s\n' "$out" >>"$TMP/wrk.out"
  json=$(grep '^{' <<<"$out" | tail -n 1) || true
  [[ $json == \{* ]] || { printf '%s\n' "$out" >&2; cat "$TMP/load.err" >&2; die "wrk produced no result for $url"; }
  echo "$json"
}

# Unmeasured 1 s warm-up of one object (path below the endpoint) on both
# endpoints, with CONC connections (default 1).
bench_warmup() {
  local ep
  for ep in "$XO_S3_ENDPOINT" "$XO_RGW_ENDPOINT"; do
    bench_load "$ep/$1" "${2:-1}" 1 >/dev/null
  done
}

# "comm pid ticks" for every watched process in the gateway and OSD namespaces.
bench_cpu_snapshot() {
  { stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null || true; } |
    awk -v want="$BENCH_NS_INODES " -v re="$BENCH_CPU_COMMS" '
      index(want, " " $1 " ") {
        split($2, p, "/"); pid = p[3]
        cf = "/proc/" pid "/comm"; sf = "/proc/" pid "/stat"
        ok = (getline comm < cf) > 0; close(cf)
        if (!ok || comm !~ re) next
        ok = (getline st < sf) > 0; close(sf)
        if (!ok) next
        sub(/^.*\) /, "", st)  # after "pid (comm) " the first field is stat field 3
        split(st, f, " ")
        print comm, pid, f[12] + f[13]  # utime, stime
      }' | bench_cpu_label
}

# With BENCH_CPU_SPLIT_RGW=1, a radosgw started with `-n client.rgw.NAME` is
# counted as comm "radosgw.NAME", so that several instances stay apart.
bench_cpu_label() {
  if ((BENCH_CPU_SPLIT_RGW == 0)); then cat; return; fi
  local comm pid ticks args
  while read -r comm pid ticks; do
    if [[ $comm == radosgw ]] && args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) &&
      [[ $args =~ -n\ client\.rgw\.([^ ]+) ]]; then
      comm=radosgw.${BASH_REMATCH[1]}
    fi
    echo "$comm $pid $ticks"
  done
}

# JSON {"ticks":{comm:delta},"procs":{comm:count after},"gone":{comm:count}}
# from two snapshots; "gone" counts processes of the first that the second
# lacks (exited during the run).
bench_cpu_delta() {
  awk 'FILENAME == ARGV[1] { if (NF == 3) { before[$1 " " $2] = $3; comm[$1 " " $2] = $1 }; next }
       NF == 3 { k = $1 " " $2; t[$1] += $3 - (k in before ? before[k] : 0); n[$1]++; seen[k] = 1 }
       END {
         for (k in before) if (!(k in seen)) g[comm[k]]++
         printf "{\"ticks\":{"; sep = ""
         for (c in t) { printf "%s\"%s\":%d", sep, c, t[c]; sep = "," }
         printf "},\"procs\":{"; sep = ""
         for (c in n) { printf "%s\"%s\":%d", sep, c, n[c]; sep = "," }
         printf "},\"gone\":{"; sep = ""
         for (c in g) { printf "%s\"%s\":%d", sep, c, g[c]; sep = "," }
         print "}}"
       }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

bench_cell() {
  local size=$1 conc=$2 secs=$3 spec slice r which json cpu0 cpu1 load0 load1 i
  shift 3
  local -a targets=() order=()
  local -A url=()
  for spec; do targets+=("${spec%%=*}"); url[${spec%%=*}]=${spec#*=}; done
  slice=$(awk -v t="$secs" -v r="$BENCH_ROUNDS" 'BEGIN { printf "%.3f", t / r }')
  log "size $size concurrency $conc: $BENCH_ROUNDS rounds of ${targets[*]}, ${slice} s each"
  CELL=()
  for which in "${targets[@]}"; do CELL[$which]=""; done
  for ((r = 0; r < BENCH_ROUNDS; r++)); do
    order=()
    for ((i = 0; i < ${#targets[@]}; i++)); do
      order+=("${targets[$((r % 2 == 0 ? i : ${#targets[@]} - 1 - i))]}")
    done
    for which in "${order[@]}"; do
      BENCH_EXTRA=
      if declare -F bench_before_run >/dev/null; then bench_before_run "$which"; fi
      load0=$(cut -d' ' -f1 /proc/loadavg)
      if awk -v l="$load0" -v q="$BENCH_QUIET_LOAD" 'BEGIN { exit !(l > q) }'; then
        BENCH_NOISY_ROUNDS=$((BENCH_NOISY_ROUNDS + 1))
        log "WARN: 1-minute load $load0 > $BENCH_QUIET_LOAD before round $((r + 1)) of $which: the machine is not quiet"
      fi
      cpu0=$(bench_cpu_snapshot)
      json=$("$BENCH_LOAD_FN" "${url[$which]}" "$conc" "$slice")
      [[ $BENCH_SETTLE == 0 ]] || sleep "$BENCH_SETTLE"
      cpu1=$(bench_cpu_snapshot)
      load1=$(cut -d' ' -f1 /proc/loadavg)
      log "  round $((r + 1)) $which: $(jq -r '"\(.bytes / .elapsed_s / 1048576 * 10 | round / 10) MiB/s, \(.requests) GETs, \(.errors) errors"' <<<"$json"); load $load0 -> $load1"
      if declare -F bench_after_run >/dev/null; then bench_after_run "$which" "$json"; fi
      CELL[$which]+=$(printf '{"size":"%s","target":"%s","round":%d,"load":[%s,%s],"run":%s,"cpu":%s%s}' \
        "$size" "$which" "$((r + 1))" "$load0" "$load1" "$json" "$(bench_cpu_delta "$cpu0" "$cpu1")" "$BENCH_EXTRA")$'\n'
    done
  done
  for which in "${targets[@]}"; do printf '%s' "${CELL[$which]}"; done >>"$OUT"
}

# ------------------------------------------------------------- metrics

# "key value" lines from the metrics URLs: gw_up, offload.<outcome>[:<reason>], gw_bytes,
# handoff_sum, handoff_count and handoff_le:<bound> (xo_handoff_seconds) from the gateway; rsp_up and rsp_bytes
# once per responder that answered.
scrape() {
  local out u
  if [[ -n ${XO_GATEWAY_METRICS:-} ]] && out=$(in_client curl -sf --max-time 2 "$XO_GATEWAY_METRICS" 2>/dev/null); then
    echo "gw_up 1"
    awk '/^xo_offload_total\{/ {
           o = r = ""
           if (match($1, /outcome="[^"]*"/)) o = substr($1, RSTART + 9, RLENGTH - 10)
           if (match($1, /reason="[^"]*"/)) r = substr($1, RSTART + 8, RLENGTH - 9)
           if (o != "") print "offload." o (r == "" ? "" : ":" r), $2
         }
         $1 == "xo_gateway_relayed_body_bytes_total" { print "gw_bytes", $2 }
         $1 ~ /^xo_handoff_seconds_sum(\{.*\})?$/ { print "handoff_sum", $2 }
         $1 ~ /^xo_handoff_seconds_count(\{.*\})?$/ { print "handoff_count", $2 }
         $1 ~ /^xo_handoff_seconds_bucket\{/ && match($1, /le="[^"]*"/) { print "handoff_le:" substr($1, RSTART + 4, RLENGTH - 5), $2 }' <<<"$out"
  fi
  for u in ${XO_RESPONDER_METRICS:-}; do
    if out=$(in_client curl -sf --max-time 2 "$u" 2>/dev/null); then
      echo "rsp_up 1"
      awk '$1 ~ /^xo_responder_sent_body_bytes_total(\{.*\})?$/ { print "rsp_bytes", $2 }' <<<"$out"
    fi
  done
}

# JSON delta of two scrapes: {"gw_up":0|1,"rsp_up":N,"offload":{"outcome[:reason]":n},
# "gw_bytes":n|null,"rsp_bytes":n|null,"handoffs":n|null,"handoff_s":seconds|null,
# "handoff_le":{"<bound>":cumulative n}}. Gateway numbers only if both scrapes
# reached it (handoffs: the count of xo_handoff_seconds, handoff_s: its sum,
# handoff_le: its buckets); responder bytes only if the same
# number of responders (> 0) answered both times and reported the counter.
metrics_delta() {
  awk 'FILENAME == ARGV[1] { b[$1] += $2; next }
       NF == 2 { a[$1] += $2 }
       END {
         gw = (b["gw_up"] > 0 && a["gw_up"] > 0)
         rsp = (a["rsp_up"] > 0 && a["rsp_up"] == b["rsp_up"] && ("rsp_bytes" in a))
         printf "{\"gw_up\":%d,\"rsp_up\":%d,\"offload\":{", gw, a["rsp_up"] + 0
         sep = ""
         if (gw) for (k in a) if (k ~ /^offload\./) { printf "%s\"%s\":%.0f", sep, substr(k, 9), a[k] - b[k]; sep = "," }
         ho = gw && ("handoff_count" in a) && ("handoff_count" in b)
         printf "},\"gw_bytes\":%s,\"rsp_bytes\":%s,\"handoffs\":%s,\"handoff_s\":%s",
           (gw && ("gw_bytes" in a)) ? sprintf("%.0f", a["gw_bytes"] - b["gw_bytes"]) : "null",
           rsp ? sprintf("%.0f", a["rsp_bytes"] - b["rsp_bytes"]) : "null",
           ho ? sprintf("%.0f", a["handoff_count"] - b["handoff_count"]) : "null",
           ho ? sprintf("%.9f", a["handoff_sum"] - b["handoff_sum"]) : "null"
         printf ",\"handoff_le\":{"; sep = ""
         if (ho) for (k in a) if (k ~ /^handoff_le:/) { printf "%s\"%s\":%.0f", sep, substr(k, 12), a[k] - b[k]; sep = "," }
         print "}}"
       }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# ------------------------------------------------------------- numbers

# Field of a JSON object ("null" when absent).
field() { jq -r ".$2" <<<"$1"; }
# A number with 2 decimals, or "-" for null (no sample).
num() { local v; v=$(field "$1" "$2"); [[ $v == null ]] && echo - || printf '%.2f' "$v"; }
# a / b with 3 decimals, "nan" when either is missing or b is 0.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a != "null" && a != "-" && a != "" && b != "null" && b != "-" && b != "" && b > 0) printf "%.3f", a / b; else print "nan" }'
}

BENCH_AGGREGATE='def med: map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  map(.run) |
  { mib_s: ((map(.bytes) | add) / (map(.elapsed_s) | add) / 1048576),
    req_s: ((map(.requests) | add) / (map(.elapsed_s) | add)),
    bytes: (map(.bytes) | add),
    elapsed_s: (map(.elapsed_s) | add),
    errors: (map(.errors) | add),
    cut_off: (map(.cut_off) | add),
    lat_p50_ms: (map(.lat_p50_ms) | med), lat_p99_ms: (map(.lat_p99_ms) | med),
    ttfb_p50_ms: (map(.ttfb_p50_ms) | med), ttfb_p99_ms: (map(.ttfb_p99_ms) | med) }'

bench_aggregate() { printf '%s' "${CELL[$1]}" | jq -sc "$BENCH_AGGREGATE"; }

# CPU ticks of the cell's runs of TARGET, summed over the rounds and over the
# comms given (a jq array literal, e.g. '["xo-gateway","radosgw"]').
bench_cell_ticks() {
  printf '%s' "${CELL[$1]}" | jq -s --argjson comms "$2" \
    '[.[] | .cpu.ticks as $t | $comms[] | $t[.] // 0] | add // 0'
}

# Largest number of processes of COMM seen in any run of the cell's TARGET.
bench_cell_procs() {
  printf '%s' "${CELL[$1]}" | jq -s --arg c "$2" '[.[] | .cpu.procs[$c] // 0] | max // 0'
}

# How many processes of COMM exited during the cell's runs of TARGET.
bench_cell_gone() {
  printf '%s' "${CELL[$1]}" | jq -s --arg c "$2" '[.[] | .cpu.gone[$c] // 0] | add // 0'
}

# ------------------------------------------------------------- report

# bench_report NOTE... -- HEADER... -- ROW...
bench_report() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average before ${LOAD_BEFORE:-?}, at end ${LOAD_AFTER:-$(cut -d' ' -f1-3 /proc/loadavg)}"
  while (($#)) && [[ $1 != -- ]]; do echo "$1"; shift; done
  shift
  echo "raw results: $OUT"
  echo
  while (($#)) && [[ $1 != -- ]]; do echo "$1"; shift; done
  shift
  (($# == 0)) || printf '%s\n' "$@"
  echo
}
