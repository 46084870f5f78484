#!/usr/bin/env bash
# Theory of operation: the handoff test bed. It builds a client, a gateway and
# two responders in network namespaces of its own on one bridge (bed.sh:
# 198.18.0.0/24, names xot<pid>-*, PSK file 0600 in a private temporary
# directory), starts the testbed daemons, runs the scenarios named on the
# command line (default: all, in this order) and removes everything on exit
# (trap), whatever happened:
#
#   sequential  1,000 requests on one connection, alternating responders
#   sizes       responses of 0 B, 1 B, 1 MiB and 64 MiB
#   pipeline    the next request is sent while the current response streams:
#               its bytes reach the responder and travel back in the return
#   concurrent  64 connections x 50 requests at once
#   capture     tcpdump in the client namespace during the scenarios above:
#               no RST at all, and on every connection the server's first FIN
#               comes after the client's (no migration ever closes a flow)
#   cleanup     after the clients are done: every pinned flow and rewrite map
#               is empty, no client connection is left on gateway or
#               responders, and the gateway counted no fallback, lost
#               connection or failed return
#   refused     the second responder restarted refusing every OFFER (busy):
#               the gateway reconnects to it, undoes each handoff (BLOCK
#               removed, repair mode left) and serves those requests itself,
#               byte-exact; the flow map is empty afterwards
#   killed      a responder killed with SIGKILL mid-response: the client's
#               connection fails (error or EOF, not its timeout) within 5 s,
#               the gateway keeps serving other connections, and its flow map
#               is empty again
#   flower      (with --gateway-args "--tc-flower ...") 16 MiB and 64 MiB
#               responses, each long enough for a TC flower rule: the rules
#               went in (inserted > 0, none failed), every byte arrived, and
#               afterwards every rule is removed and no flower filter is left
#               on the gateway's NIC. With --tc-flower-replace-entry the eBPF
#               entry is deleted once a rule is in, so the rule alone steers.
#               Not in the default list (this kernel may lack cls_flower).
#   shutdown    SIGTERM to the gateway and the live responders: each exits
#               having detached its program (no XDP program, no TC filter
#               left on its NIC) and removed its pinned maps
#
# Every client verifies every byte it receives (xo-testbed-client), and at
# the end any sanitizer report in a daemon's log is a "FAIL: sanitizer" (for a
# -DXO_SANITIZE=ON build; the clients' own reports fail their scenario).
# Prints "PASS: <scenario>" or "FAIL: <scenario>: <why>" per scenario and exits 1 if
# any failed, 0 otherwise; exits 0 with "SKIPPED: <why>" where it cannot run
# (not root, a tool missing). The gateway's data plane runs in TC mode, or
# with --attach xdp in native XDP mode (bed_prepare_xdp sets the veths up).
# --gateway-args passes further options (word-split) to xo-testbed-gateway.
# Usage: testbed.sh --bin <dir> [--attach tc|xdp] [--gateway-args "OPTS"] [scenario...]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BED_BIN=""
ATTACH=tc
if [[ ${1:-} == --bin ]]; then BED_BIN=$2; shift 2; fi
if [[ ${1:-} == --attach ]]; then ATTACH=$2; shift 2; fi
GATEWAY_ARGS=()
if [[ ${1:-} == --gateway-args ]]; then read -ra GATEWAY_ARGS <<< "$2"; shift 2; fi
ALL=(sequential sizes pipeline concurrent capture cleanup refused killed shutdown)
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL[@]}")

skip() { echo "SKIPPED: $*"; exit 0; }
((EUID == 0)) || skip "needs root (namespaces, BPF, TCP_REPAIR)"
for tool in ip nsenter tcpdump bpftool ss openssl; do
  command -v "$tool" > /dev/null || skip "$tool is not installed"
done
[[ -x $BED_BIN/xo-testbed-gateway ]] || { echo "FAIL: no testbed executables in '$BED_BIN'"; exit 1; }

# shellcheck source=bed.sh
source "$HERE/bed.sh"
TCPDUMP_PID=""
cleanup() {
  [[ -n $TCPDUMP_PID ]] && kill "$TCPDUMP_PID" 2> /dev/null && wait "$TCPDUMP_PID" 2> /dev/null
  bed_teardown
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FAILED=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; FAILED=1; }
wants() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

# client NAME ARGS...: run the client; PASS/FAIL on its exit status.
client() {
  local name=$1; shift
  local out
  out=$(bed_client --timeout-ms 10000 "$@" 2>&1)
  if (($? == 0)); then pass "$name ($(tail -n 1 <<< "$out"))"; else fail "$name" "$(tail -n 5 <<< "$out" | tr '\n' ' ')"; fi
}

# map_entries INSTANCE MAP: number of entries in a pinned map (-1 if unreadable).
map_entries() {
  local json
  json=$(bpftool -j map dump pinned "/sys/fs/bpf/xo/$BED_ID-$1/$2" 2> /dev/null) || { echo -1; return; }
  grep -o '"key"' <<< "$json" | wc -l
}

# client_sockets NS: connected TCP sockets in NS other than control channels.
client_sockets() {
  bed_in "$1" ss -Htn state established state syn-recv state fin-wait-1 state fin-wait-2 state close-wait \
    state last-ack state closing | grep -cvE ':7000([[:space:]]|$)'
}

# gateway_counter NAME: the latest value of NAME in the gateway's counters line.
gateway_counter() {
  kill -USR1 "${BED_PIDS[gw]}"
  sleep 0.2
  grep '^counters' "$BED_DIR/gw.out" | tail -n 1 | grep -o "$1=[0-9]*" | cut -d= -f2
}

# until_zero SECONDS COMMAND...: poll until COMMAND prints 0.
until_zero() {
  local limit=$1 i; shift
  for ((i = 0; i < limit * 10; i++)); do [[ $("$@") == 0 ]] && return 0; sleep 0.1; done
  return 1
}

bed_setup || { echo "FAIL: setup"; exit 1; }
if wants capture; then
  nsenter --net="/run/netns/$BED_NS_CL" -- tcpdump -i c0 -nn -s 128 -U -w "$BED_DIR/client.pcap" "tcp port $BED_PORT" 2> "$BED_DIR/tcpdump.err" &
  TCPDUMP_PID=$!
  for _ in $(seq 50); do grep -qs listening "$BED_DIR/tcpdump.err" && break; sleep 0.1; done
fi
if [[ $ATTACH == xdp ]]; then
  command -v ethtool > /dev/null || skip "ethtool is not installed"
  bed_prepare_xdp || { echo "FAIL: XDP test bed setup"; exit 1; }
fi
bed_start_all --attach "$ATTACH" "${GATEWAY_ARGS[@]}" || { echo "FAIL: daemons did not start"; exit 1; }
mode=$(grep -o 'data plane on g0 ([a-z-]*)' "$BED_DIR/gw.err")
[[ $mode == *"(${ATTACH}"* ]] || { echo "FAIL: gateway data plane is '$mode', wanted $ATTACH"; exit 1; }

CONNECTIONS=0
wants sequential && { client sequential --requests 1000 --sizes 1,1000,100000 --seed 1000; ((CONNECTIONS += 1)); }
wants sizes && { client sizes --requests 8 --sizes 0,1,1048576,67108864 --seed 2000; ((CONNECTIONS += 1)); }
wants pipeline && { client pipeline --requests 200 --sizes 262144,1,65536,0,1048576 --pipeline --seed 3000; ((CONNECTIONS += 1)); }
if wants flower; then
  why=""
  grep -q 'TC flower: \(software\|hardware\)' "$BED_DIR/gw.err" ||
    why+="gateway has no TC flower backend ($(grep -o 'TC flower: .*' "$BED_DIR/gw.err")); "
  out=$(bed_client --timeout-ms 10000 --requests 4 --sizes 16777216,67108864 --seed 7000 2>&1) ||
    why+="client: $(tail -n 3 <<< "$out" | tr '\n' ' '); "
  ((CONNECTIONS += 1))
  gateway_counter offloads > /dev/null # SIGUSR1 also prints the tc_flower line
  flower_stat() { grep '^tc_flower' "$BED_DIR/gw.out" | tail -n 1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
  inserted=$(flower_stat inserted)
  ((${inserted:-0} > 0)) || why+="no rule went in ($(grep '^tc_flower' "$BED_DIR/gw.out" | tail -n 1)); "
  [[ $(flower_stat failed) == 0 ]] || why+="rule inserts failed ($(grep '^tc_flower' "$BED_DIR/gw.out" | tail -n 1)); "
  flower_filters() { tc -n "$BED_NS_GW" filter show dev g0 ingress 2> /dev/null | grep -c '^filter .* flower'; }
  until_zero 5 flower_filters || why+="$(flower_filters) flower filters left on g0; "
  gateway_counter offloads > /dev/null
  [[ $(flower_stat rules) == 0 && $(flower_stat removed) == "$(flower_stat inserted)" ]] ||
    why+="rules not all removed ($(grep '^tc_flower' "$BED_DIR/gw.out" | tail -n 1)); "
  if [[ -z $why ]]; then pass "flower ($inserted rules in and removed, $(tail -n 1 <<< "$out"))"; else fail flower "$why"; fi
fi
wants concurrent && { client concurrent --connections 64 --requests 50 --sizes 1,4096,65536 --seed 4000; ((CONNECTIONS += 64)); }

if wants capture; then
  sleep 1 # the last FIN/ACK exchanges
  kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2> /dev/null; TCPDUMP_PID=""
  pcap=$BED_DIR/client.pcap
  syns=$(tcpdump -r "$pcap" -nn 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2> /dev/null | wc -l)
  # An RST could destroy a response still in the client's receive queue,
  # unless both FINs of its connection went first: then the client has every
  # byte and is in TIME_WAIT (a closed server socket answering a late
  # duplicate ACK, seen rarely on the DONE path under load). Only the former fail.
  read -r rsts late_rsts <<< "$(tcpdump -r "$pcap" -nn 'tcp[tcpflags] & (tcp-fin|tcp-rst) != 0' 2> /dev/null |
    awk -v vip="$BED_VIP.$BED_PORT" '
    { src = $3; dst = $5; sub(":", "", dst); flags = $7
      port = (src == vip) ? dst : src; sub(/.*\./, "", port) }
    flags ~ /R/ { if ((port in cfin) && (port in sfin)) late++; else bad++; next }
    src == vip { sfin[port] = 1 }
    dst == vip { cfin[port] = 1 }
    END { print bad + 0, late + 0 }')"
  # For each client port: was a server FIN seen before the client's first FIN?
  early=$(tcpdump -r "$pcap" -nn 'tcp[tcpflags] & tcp-fin != 0' 2> /dev/null | awk -v vip="$BED_VIP.$BED_PORT" '
    { src = $3; dst = $5; sub(":", "", dst) }
    src == vip { port = dst; sub(/.*\./, "", port); if (!(port in client_fin)) early[port] = 1; server_fin[port] = 1 }
    dst == vip { port = src; sub(/.*\./, "", port); client_fin[port] = 1 }
    END { n = 0; for (p in early) n++; m = 0; for (p in server_fin) m++; print n, m }')
  read -r early_fins server_fins <<< "$early"
  if ((syns != CONNECTIONS)); then fail capture "expected $CONNECTIONS connections in the capture, saw $syns SYNs"
  elif ((rsts != 0)); then fail capture "$rsts RST segments before both FINs of their connection"
  elif ((early_fins != 0)); then fail capture "$early_fins connections got a server FIN before the client closed"
  elif ((server_fins != CONNECTIONS)); then fail capture "$server_fins of $CONNECTIONS connections closed by the server"
  else pass "capture ($syns connections, 0 RST before both FINs ($late_rsts after), every server FIN after the client's)"
  fi
fi

if wants cleanup; then
  why=""
  until_zero 5 map_entries gw xo_gw_flows || why+="gateway flow map not empty ($(map_entries gw xo_gw_flows)); "
  for r in r1 r2; do
    until_zero 5 map_entries "$r" xo_rsp_rewrites || why+="$r rewrite map not empty ($(map_entries "$r" xo_rsp_rewrites)); "
  done
  for ns in "$BED_NS_GW" "$BED_NS_R1" "$BED_NS_R2"; do
    until_zero 5 client_sockets "$ns" || why+="client connections left in $ns: $(client_sockets "$ns"); "
  done
  for counter in fallbacks lost return_errors; do
    value=$(gateway_counter "$counter")
    [[ $value == 0 ]] || why+="gateway $counter=$value; "
  done
  offloads=$(gateway_counter offloads)
  ((offloads > 0)) || why+="no handoff happened; "
  if [[ -z $why ]]; then pass "cleanup ($offloads handoffs, maps empty, no sockets left)"; else fail cleanup "$why"; fi
fi

if wants refused; then
  why=""
  fallbacks_before=$(gateway_counter fallbacks)
  bed_stop r2
  bed_start_responder r2 "$BED_NS_R2" 198.18.0.12 --max-connections 0 || why+="r2 did not restart; "
  sleep 1.5 # past the gateway's reconnect throttle
  out=$(bed_client --timeout-ms 10000 --requests 100 --sizes 1000,100000 --seed 6000 2>&1) ||
    why+="client: $(tail -n 1 <<< "$out"); "
  fallbacks=$(($(gateway_counter fallbacks) - fallbacks_before))
  refusals=$(grep -c 'refused (reason 1)' "$BED_DIR/gw.err")
  ((fallbacks >= 50)) || why+="only $fallbacks of 50 requests for r2 fell back; "
  ((refusals > 0)) || why+="no REFUSE reached the gateway; "
  until_zero 5 map_entries gw xo_gw_flows || why+="gateway flow map not empty ($(map_entries gw xo_gw_flows)); "
  if [[ -z $why ]]; then pass "refused ($fallbacks fallbacks, $refusals refusals, every byte right)"; else fail refused "$why"; fi
fi

if wants killed; then
  # Seed 0 picks the first responder (r1); 1 GiB keeps it busy for seconds.
  bed_client --timeout-ms 10000 --requests 1 --sizes 1073741824 --seed 0 --expect-drop > "$BED_DIR/killed.out" 2>&1 &
  victim=$!
  sleep 1
  kill -KILL "${BED_PIDS[r1]}"
  killed_at=$(date +%s%N)
  wait "${BED_PIDS[r1]}" 2> /dev/null; unset "BED_PIDS[r1]"
  wait "$victim"; status=$?
  elapsed_ms=$((($(date +%s%N) - killed_at) / 1000000))
  why=""
  ((status == 0)) || why+="client did not see its connection fail ($(tail -n 1 "$BED_DIR/killed.out")); "
  ((elapsed_ms < 5000)) || why+="client took ${elapsed_ms} ms to fail; "
  after=$(bed_client --timeout-ms 10000 --connections 4 --requests 20 --sizes 1000,100000 --seed 5000 2>&1) ||
    why+="gateway did not keep serving: $(tail -n 1 <<< "$after"); "
  until_zero 5 map_entries gw xo_gw_flows || why+="gateway flow map not empty ($(map_entries gw xo_gw_flows)); "
  if [[ -z $why ]]; then pass "killed (client failed ${elapsed_ms} ms after the kill; others served)"; else fail killed "$why"; fi
fi

if wants shutdown; then
  why=""
  for name in gw r1 r2; do
    [[ -n ${BED_PIDS[$name]:-} ]] || continue
    ns=$BED_ID-$name nic=r0
    [[ $name == gw ]] && nic=g0
    bed_stop "$name"
    grep -q '^counters' "$BED_DIR/$name.out" || why+="$name did not shut down cleanly; "
    [[ -e /sys/fs/bpf/xo/$BED_ID-$name ]] && why+="$name left its pins; "
    ip -n "$ns" -d link show "$nic" | grep -q 'prog/xdp' && why+="$name left an XDP program; "
    for dir in ingress egress; do
      [[ -n $(tc -n "$ns" filter show dev "$nic" "$dir" 2> /dev/null) ]] && why+="$name left a TC $dir filter; "
    done
  done
  if [[ -z $why ]]; then pass "shutdown (no pins, programs or filters left)"; else fail shutdown "$why"; fi
fi

# Sanitizer builds (-DXO_SANITIZE=ON, qa/sanitizers.sh): a daemon's ASan,
# UBSan or LeakSanitizer report fails the run even where no scenario noticed
# it. The daemons still running are stopped first (as teardown would), so
# that LeakSanitizer's report at their exit is in the logs.
for name in "${!BED_PIDS[@]}"; do bed_stop "$name"; done
# The report itself is printed (the logs go with the test bed).
sanitizer_report='^==[0-9]+==ERROR: |runtime error: '
for log in "$BED_DIR"/*.err; do
  first=$(grep -m 1 -E "$sanitizer_report" "$log") || continue
  sed -n -E "/$sanitizer_report/,\$p" "$log" | head -n 80
  fail sanitizer "$(basename "$log" .err): $first"
done

# A failed run also prints a digest of the daemons' warnings (and the
# gateway's fallback reasons), lines
# "LOG <daemon>: <count> x <message>" (numbers masked so that repeats of one
# cause group), since the logs go with the test bed: which limit fired, and
# where, is what a failure elsewhere (the kernel matrix's VM) needs to show.
if ((FAILED)); then
  for log in "$BED_DIR"/*.err; do
    grep -E ' (WARN|ERROR) | serving locally: ' "$log" | sed -E 's/^[^ ]+ [A-Z]+ //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn |
      head -n 8 | sed -E "s/^ *([0-9]+) /LOG $(basename "$log" .err): \1 x /"
  done
fi

exit "$FAILED"
