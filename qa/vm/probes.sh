#!/usr/bin/env bash
# Theory of operation: the kernel matrix's probes, run on whatever kernel this
# is — inside the QEMU guest that qa/vm/kernel-matrix.sh boots, or on the host
# (kernel-matrix.sh --host). Each feature ends PASS, SKIPPED or FAIL:
#
#   bpf      xo_bpf_tests: the XDP/TC programs load and verify on this kernel
#            (CO-RE against its BTF), BPF_PROG_TEST_RUN gives the expected
#            verdicts and rewrites, pinning, sweeps, attach/detach in a netns
#   handoff  qa/handoff/testbed.sh (TC data plane): live connections moved
#            between namespaces, every byte checked (--quick: fewer scenarios)
#   flower   once the kernel is known to accept a flower + pedit + csum +
#            mirred filter (probed in a private netns): xo_flower_kernel_tests,
#            then testbed.sh's flower scenario with the gateway's hybrid
#            steering (--tc-flower software --tc-flower-replace-entry: a
#            confirmed rule replaces the eBPF entry), byte-exact, no rule or
#            filter left (cleanup, shutdown)
#   ktls     xo_ktls_tests: TCP_ULP "tls" + TLS_TX with a migrated-style AES-GCM
#            state; the project's record layer opens what the kernel sealed
#
# SKIPPED is only for what this kernel or build lacks, and its reason is
# printed ("SKIPPED <feature>: why"); a test that ran and failed is FAIL.
# The last line is machine-readable:
#   kernel=<release> bpf=PASS|SKIPPED|FAIL handoff=... flower=... ktls=...
# Exit status: 1 if any feature is FAIL, else 0.
# --emulated (qa/vm/guest-init.sh: the kernel matrix's guest always runs under
# QEMU's TCG) runs the test beds with XO_BED_LIMIT_SCALE=5: the daemons'
# control protocol answer limits (2 s by default) become 10 s. Emulation is
# 10-50x slower than the hosts those defaults are for; with 64 handoffs at
# once on two emulated CPUs (the `concurrent` scenario) answers could take
# longer than 2 s, and handoffs fell back or failed their return, which is
# exactly what too short limits do on a fast host (docs/testing.md). The
# product's defaults stay as they are.
# Usage: probes.sh --bin <build dir> [--quick] [--emulated]
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=""
QUICK=0
while (($#)); do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --emulated) export XO_BED_LIMIT_SCALE=5; shift ;;
    *) echo "probes: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -d $BIN ]] || { echo "probes: --bin <build dir> is required" >&2; exit 2; }

declare -A RESULT=()
say() { echo "$1 $2: $3"; }
result() { RESULT[$1]=$2; [[ -n ${3:-} ]] && say "$2" "$1" "$3"; echo "== $1: $2"; }
elapsed() { echo "$((SECONDS - $1)) s"; }

# gtest NAME BINARY [gtest args...]: PASS when it ran tests and all passed,
# SKIPPED (with the first skip reason) when every test skipped, FAIL otherwise.
gtest() {
  local name=$1 binary=$2 out status passed skipped reason start=$SECONDS
  shift 2
  if [[ ! -x $binary ]]; then result "$name" FAIL "$binary was not built"; return; fi
  out=$("$binary" "$@" 2>&1); status=$?
  passed=$(grep -o '^\[  PASSED  \] [0-9]*' <<< "$out" | grep -o '[0-9]*$')
  skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+ test' <<< "$out" | grep -oE '[0-9]+ ' | tr -d ' ')
  reason=$(grep -A1 ': Skipped$' <<< "$out" | grep -v -e ': Skipped$' -e '^--$' | sort -u | head -n 3 | tr '\n' ';')
  if ((status != 0)) || [[ -z $passed ]]; then
    grep -E '^\[  FAILED  \]|Failure$' <<< "$out" | head -n 20
    tail -n 5 <<< "$out"
    result "$name" FAIL "exit status $status ($(elapsed "$start"))"
  elif ((passed == 0)) && [[ -n $skipped ]]; then
    result "$name" SKIPPED "all $skipped tests skipped: $reason"
  elif ((passed == 0)); then
    result "$name" FAIL "no test ran"
  else
    [[ -n $skipped ]] && say NOTE "$name" "$skipped tests skipped beside $passed passed: $reason"
    echo "$name: $passed tests passed ($(elapsed "$start"))"
    result "$name" PASS
  fi
}

# testbed NAME ARGS...: testbed.sh's own PASS/FAIL/SKIPPED lines decide.
testbed() {
  local name=$1 out status start=$SECONDS
  shift
  out=$("$REPO/qa/handoff/testbed.sh" --bin "$BIN/qa/handoff" "$@" 2>&1); status=$?
  echo "$out" | grep -E '^(PASS|FAIL|SKIPPED|LOG)' | sed "s/^/$name: /"
  if grep -q '^FAIL' <<< "$out" || ((status != 0)); then
    grep -q '^FAIL' <<< "$out" || tail -n 10 <<< "$out"
    result "$name" FAIL "exit status $status ($(elapsed "$start"))"
  elif grep -q '^SKIPPED' <<< "$out"; then
    result "$name" SKIPPED "$(grep -m 1 '^SKIPPED' <<< "$out" | cut -d' ' -f2-)"
  elif grep -q '^PASS' <<< "$out"; then
    echo "$name: passed in $(elapsed "$start")"
    result "$name" PASS
  else
    tail -n 10 <<< "$out"
    result "$name" FAIL "no scenario reported"
  fi
}

# flower_capable: does this kernel take the filter the flower backend
# installs? Tried on a veth pair in a throw-away namespace (unshare -n).
flower_capable() {
  unshare -n bash -c '
    ip link add f0 type veth peer name f1 && ip link set f0 up && ip link set f1 up &&
    tc qdisc add dev f0 clsact &&
    tc filter add dev f0 ingress protocol ip prio 1 flower ip_proto tcp src_ip 198.18.0.1 dst_ip 198.18.0.2 \
      src_port 40000 dst_port 8080 \
      action pedit ex munge eth dst set 02:00:00:00:00:11 munge ip dst set 198.18.0.11 pipe \
      action csum ip and tcp pipe \
      action mirred egress redirect dev f1' 2>&1
}

echo "probes: kernel $(uname -r), $(nproc) CPUs, quick=$QUICK"

# bpf
if ((QUICK)); then
  # Program verdicts and attach; the sweep and pinning tests fork owners and
  # are the slow part under emulation.
  gtest bpf "$BIN/qa/bpf/xo_bpf_tests" --gtest_filter='*GatewayIngress*:*ResponderEgress*:AttachInNetns*'
else
  gtest bpf "$BIN/qa/bpf/xo_bpf_tests"
fi

# handoff
if ((QUICK)); then
  testbed handoff --attach tc sequential pipeline cleanup shutdown
else
  testbed handoff --attach tc
fi

# flower: the backend's kernel tests, then a test-bed transfer steered by
# the rules alone (the eBPF entry removed once a rule is in).
if ! why=$(flower_capable); then
  result flower SKIPPED "this kernel does not take a flower/pedit/csum/mirred filter: $(tail -n 1 <<< "$why")"
else
  gtest flower_kernel "$BIN/qa/bpf/xo_flower_kernel_tests"
  testbed flower_bed --attach tc --gateway-args "--tc-flower software --tc-flower-replace-entry" flower cleanup shutdown
  case "${RESULT[flower_kernel]} ${RESULT[flower_bed]}" in
    *FAIL*) result flower FAIL ;;
    "PASS PASS") result flower PASS ;;
    *) result flower SKIPPED "kernel tests ${RESULT[flower_kernel]}, test bed ${RESULT[flower_bed]}" ;;
  esac
fi

# ktls
gtest ktls "$BIN/qa/unit/xo_ktls_tests"

FAILED=0
line="kernel=$(uname -r)"
for f in bpf handoff flower ktls; do
  line+=" $f=${RESULT[$f]}"
  [[ ${RESULT[$f]} == FAIL ]] && FAILED=1
done
echo "$line"
exit "$FAILED"
