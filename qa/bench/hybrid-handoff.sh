#!/usr/bin/env bash
# hybrid-handoff.sh — does hybrid steering (TC flower rules queued in the
# background) slow the handoff down, compared with eBPF steering alone?
#
# Theory of operation
# -------------------
# ROUNDS (default 3) rounds of qa/bench/handoff.sh each for two gateway
# configurations, alternating in one run so that machine load hits both alike:
#   ebpf    --tc-flower off: the eBPF flow table alone
#   hybrid  --tc-flower software --tc-flower-min-bytes 1: every handoff also
#           queues a TC flower rule, inserted by the worker while the response
#           streams and removed at the return
# Each round is HANDOFFS (default 200) sequential requests of SIZE bytes
# (default 65536: long enough, with the handoff's own steps, for most rules
# to go in before the flow returns; the tc_flower line shows how many did).
# Per round it prints the whole-handoff p50/p99 (block → GO, the gateway's
# StepStats) and the hybrid queue's stats; at the end the median of the
# rounds' p50 and p99 per configuration and the ratios hybrid/ebpf. Needs a
# kernel with cls_flower, act_pedit, act_csum and act_mirred (the development
# kernel has none: qa/vm/kernel-matrix.sh --bench-handoff runs this in QEMU).
# The load average is printed before and after.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${ROUNDS:-3}
export HANDOFFS=${HANDOFFS:-200} SIZE=${SIZE:-65536}
load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"; }

declare -A ARGS=([ebpf]="--tc-flower off" [hybrid]="--tc-flower software --tc-flower-min-bytes 1")
declare -A P50=() P99=()
echo "hybrid-handoff: $ROUNDS rounds x {ebpf, hybrid}, $HANDOFFS handoffs of $SIZE B each; $(load)"
failed=0
for ((round = 1; round <= ROUNDS; round++)); do
  for config in ebpf hybrid; do
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
    printf 'round %d %-7s handoff p50 %8s us  p99 %8s us  %s\n' "$round" "$config" "$p50" "$p99" \
      "$(grep '^tc_flower' <<< "$out")"
  done
done

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-8s %14s %14s\n' config "median p50 us" "median p99 us"
for config in ebpf hybrid; do
  printf '%-8s %14s %14s\n' "$config" "$(median "${P50[$config]:-}")" "$(median "${P99[$config]:-}")"
done
if [[ -n ${P50[ebpf]:-} && -n ${P50[hybrid]:-} ]]; then
  awk -v a="$(median "${P50[hybrid]}")" -v b="$(median "${P50[ebpf]}")" \
    -v c="$(median "${P99[hybrid]}")" -v d="$(median "${P99[ebpf]}")" \
    'BEGIN { printf "ratio hybrid/ebpf: p50 %.2f, p99 %.2f\n", a / b, c / d }'
fi
echo "after: $(load)"
exit "$failed"
