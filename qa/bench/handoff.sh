#!/usr/bin/env bash
# handoff.sh — how long does moving a live TCP connection take, step by step?
#
# Theory of operation
# -------------------
# 1. Builds nothing: it needs the handoff test bed executables in
#    build/qa/handoff (cmake --build build --target xo-testbed-gateway
#    xo-testbed-responder xo-testbed-client), or the directory given as $1.
# 2. Sets up the test bed's namespaces by sourcing qa/handoff/bed.sh (the
#    same helper the tests use), with one responder so that every handoff
#    lands on the same host and its step timings are one distribution; traps
#    EXIT to remove every namespace, pin and temporary file.
# 3. One client connection sends HANDOFFS (default 2000) sequential 1-byte
#    requests; each is handed off to the responder and returned, so every
#    request is one whole handoff and one whole return, with nothing else
#    competing. The client verifies every byte. ATTACH=xdp runs the gateway's
#    data plane in native XDP mode instead of TC; SIZE sets the response
#    size (default 1 byte); GATEWAY_ARGS adds gateway options (e.g.
#    "--tc-flower software --tc-flower-min-bytes 1" for hybrid steering, whose
#    queue stats line "tc_flower ..." is then printed too).
# 4. Stopping the daemons makes them print per-step p50/p99 (StepStats):
#    gateway: block (BLOCK insert), save (TCP_REPAIR snapshot), control RPC
#    (OFFER → READY, which includes the responder's restore and rewrite),
#    redirect insert, whole handoff (block → GO sent), whole return
#    (RETURN_PREPARE → socket restored and out of repair); responder: restore,
#    rewrite insert. They are printed as a table next to Prism's published
#    ~232 µs handoff (NSDI '21; XO publishes no per-step numbers).
# 5. The last line is machine-readable:
#    handoffs=<n> errors=<n> p50_us=<whole handoff p50> p99_us=<p99>
#    errors counts client failures plus gateway fallbacks, lost connections
#    and failed returns.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BED_BIN=${1:-$HERE/../../build/qa/handoff}
HANDOFFS=${HANDOFFS:-2000}
ATTACH=${ATTACH:-tc} # gateway data plane: tc, or xdp (native, with bed_prepare_xdp)
SIZE=${SIZE:-1}
read -ra GATEWAY_ARGS <<< "${GATEWAY_ARGS:-}"
((EUID == 0)) || { echo "handoff.sh: needs root" >&2; exit 1; }
[[ -x $BED_BIN/xo-testbed-gateway ]] || { echo "handoff.sh: build the testbed first ($BED_BIN)" >&2; exit 1; }

# shellcheck source=../handoff/bed.sh
source "$HERE/../handoff/bed.sh"
trap bed_teardown EXIT
trap 'exit 1' INT TERM
BED_RESPONDERS=(r1)

bed_setup || exit 1
if [[ $ATTACH == xdp ]]; then bed_prepare_xdp || exit 1; fi
bed_start_all --attach "$ATTACH" "${GATEWAY_ARGS[@]}" || exit 1
echo "gateway: $(grep -o 'data plane on g0 ([a-z-]*)' "$BED_DIR/gw.err"), $HANDOFFS handoffs"
client_out=$(BED_CLIENT_TIMEOUT=600 bed_client --timeout-ms 10000 --requests "$HANDOFFS" --sizes "$SIZE" --seed 0 2>&1)
client_status=$?
bed_stop gw
bed_stop r1

# step NAME FILE FIELD: FIELD (n, p50_us, p99_us) of step NAME in FILE.
step() { grep "^step $1 " "$BED_DIR/$2" | grep -o "$3=[0-9.]*" | cut -d= -f2; }
counter() { grep '^counters' "$BED_DIR/gw.out" | tail -n 1 | grep -o "$1=[0-9]*" | cut -d= -f2; }

printf '%-34s %10s %10s %8s\n' "step" "p50 (µs)" "p99 (µs)" "n"
row() { printf '%-34s %10s %10s %8s\n' "$1" "$(step "$2" "$3" p50_us)" "$(step "$2" "$3" p99_us)" "$(step "$2" "$3" n)"; }
row "block (gateway map insert)" gw_block gw.out
row "save (gateway TCP_REPAIR)" gw_save gw.out
row "control RPC (OFFER → READY)" gw_control_rpc gw.out
row "  restore (responder)" rsp_restore r1.out
row "  rewrite insert (responder)" rsp_rewrite_insert r1.out
row "redirect insert (gateway)" gw_redirect_insert gw.out
row "close in repair mode (gateway)" gw_close gw.out
row "leave repair (responder)" rsp_leave_repair r1.out
row "whole handoff (block → GO)" handoff gw.out
row "whole return (PREPARE → restored)" return gw.out
echo "Prism (NSDI '21) published handoff: ~232 µs"
grep '^tc_flower' "$BED_DIR/gw.out" | tail -n 1
echo
echo "BPF flow-table map operations alone (xo-flow-table-bench, 65,536-entry hash map):"
"$BED_BIN/../bench/xo-flow-table-bench" --benchmark_min_time=0.5 2>/dev/null | grep '^BM_' ||
  echo "  xo-flow-table-bench missing: cmake --build build --target xo-flow-table-bench" >&2

handoffs=$(counter offloads)
errors=$(( $(counter fallbacks) + $(counter lost) + $(counter return_errors) + (client_status != 0) ))
((client_status == 0)) || echo "client: $(tail -n 3 <<< "$client_out" | tr '\n' ' ')" >&2
echo "handoffs=${handoffs:-0} errors=$errors p50_us=$(step handoff gw.out p50_us) p99_us=$(step handoff gw.out p99_us)"
