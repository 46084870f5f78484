#!/usr/bin/env bash
# hybrid-handoff.sh — does hybrid steering (TC flower rules queued in the
# background) slow the handoff down, compared with eBPF steering alone?
#
# Theory of operation
# -------------------
# ROUNDS (default 5) rounds of qa/bench/handoff.sh each for three gateway
# configurations, alternating in one run so that machine load hits both alike:
#   ebpf    --tc-flower off: the eBPF flow table alone
#   hybrid  --tc-flower software --tc-flower-min-bytes 1: every handoff also
#           queues a TC flower rule, inserted by the worker while the response
#           streams and removed at the return
#   idle    --tc-flower software with a threshold no response reaches: the
#           hybrid steering layer on the path, but no rule work at all, which
#           separates the layer's own cost from its worker's netlink calls
# Each round is HANDOFFS (default 150) sequential requests of SIZE bytes
# (default 65536: long enough, with the handoff's own steps, for most rules
# to go in before the flow returns; the tc_flower line shows how many did).
# Per round it prints the whole-handoff p50/p99 (block → GO, the gateway's
# StepStats), the control RPC and redirect insert steps' p50, and the hybrid
# queue's stats; at the end the median of the rounds' p50 and p99 per
# configuration and its ratios to ebpf. Needs a
# kernel with cls_flower, act_pedit, act_csum and act_mirred (the development
# kernel has none: qa/vm/kernel-matrix.sh --bench-handoff runs this in QEMU).
# The load average is printed before and after.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${ROUNDS:-5}
export HANDOFFS=${HANDOFFS:-150} SIZE=${SIZE:-65536}
load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"; }

CONFIGS=(ebpf hybrid idle)
declare -A ARGS=([ebpf]="--tc-flower off" [hybrid]="--tc-flower software --tc-flower-min-bytes 1"
  [idle]="--tc-flower software --tc-flower-min-bytes 1099511627776")
declare -A P50=() P99=()
echo "hybrid-handoff: $ROUNDS rounds x {${CONFIGS[*]}}, $HANDOFFS handoffs of $SIZE B each; $(load)"
failed=0
for ((round = 1; round <= ROUNDS; round++)); do
  for config in "${CONFIGS[@]}"; do
    out=$(GATEWAY_ARGS=${ARGS[$config]} "$HERE/handoff.sh" 2>&1)
    last=$(tail -n 1 <<< "$out")
    if [[ $last != handoffs=* || $last != *" errors=0 "* ]]; then
      echo "round $round $config: FAILED: $(tail -n 5 <<< "$out" | tr '\n' ' ')"
      failed=1
      continue
    fi
    p50=$(grep -o 'p50_us=[0-9.]*' <<< "$last" | cut -d= -f2)
    p99=$(grep -o 'p99_us=[0-9.]*' <<< "$last" | cut -d= -f2)
    P50[$config]+=" $p50" P99[$config]+=" $p99"
    # Where the time went: two of handoff.sh's per-step rows (p50, µs).
    rpc=$(grep '^control RPC' <<< "$out" | awk '{ print $(NF - 2) }')
    redirect=$(grep '^redirect insert' <<< "$out" | awk '{ print $(NF - 2) }')
    printf 'round %d %-7s handoff p50 %8s us  p99 %8s us  (control RPC p50 %s, redirect insert p50 %s)  %s\n' \
      "$round" "$config" "$p50" "$p99" "$rpc" "$redirect" "$(grep '^tc_flower' <<< "$out")"
  done
done

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-8s %14s %14s %12s %12s\n' config "median p50 us" "median p99 us" "p50 / ebpf" "p99 / ebpf"
for config in "${CONFIGS[@]}"; do
  [[ -n ${P50[$config]:-} ]] || { echo "$config: no successful round"; continue; }
  p50=$(median "${P50[$config]}") p99=$(median "${P99[$config]}")
  awk -v c="$config" -v a="$p50" -v b="$p99" -v e50="$(median "${P50[ebpf]:-}")" -v e99="$(median "${P99[ebpf]:-}")" \
    'BEGIN { printf "%-8s %14s %14s %12s %12s\n", c, a, b, e50 ? sprintf("%.2f", a / e50) : "-", e99 ? sprintf("%.2f", b / e99) : "-" }'
done
echo "after: $(load)"
exit "$failed"
