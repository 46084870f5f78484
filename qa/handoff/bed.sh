# shellcheck shell=bash
# Theory of operation: the handoff test bed's namespaces and daemons, shared
# by qa/handoff/testbed.sh (tests) and qa/bench/handoff.sh (benchmark), which
# source this file. bed_setup builds, all inside namespaces named
# xot<pid>-<role> and addresses in 198.18.0.0/24:
#
#   xot<pid>-cl  c0 198.18.0.1  ─┐
#   xot<pid>-gw  g0 198.18.0.2  ─┼─ br0 in xot<pid>-br (veth peers; nothing
#   xot<pid>-r1  r0 198.18.0.11 ─┤   in the root namespace, veths are created
#   xot<pid>-r2  r0 198.18.0.12 ─┘   directly inside their namespaces)
#
# with fixed MACs (02:00:00:00:00:<last octet>), a PSK file of mode 0600 in a
# private temporary directory, and starts xo-testbed-gateway (public port
# 8080, TC data plane) and one xo-testbed-responder per responder namespace
# (control port 7000). Daemons run with nsenter --net only, so their BPF pins
# land in the host's bpffs under /sys/fs/bpf/xo/xot<pid>-<role>, where the
# caller can inspect them. bed_teardown (install it with trap) stops the
# daemons, deletes every namespace, pin directory and temporary file, and is
# safe to call twice or after a partial setup.
#
# Needs: BED_BIN (directory of the testbed executables). XO_BED_KEEP=1 keeps
# the run directory (logs, client capture) for a failure to be read.
# XO_BED_LIMIT_SCALE=F starts every daemon with --limit-scale F (their control
# protocol's answer limits F times the defaults), for a host far slower than
# the defaults assume (qa/vm/probes.sh sets it in the emulated guest).

BED_ID="xot$$"
BED_NS_BR="$BED_ID-br" BED_NS_CL="$BED_ID-cl" BED_NS_GW="$BED_ID-gw"
BED_NS_R1="$BED_ID-r1" BED_NS_R2="$BED_ID-r2"
BED_VIP=198.18.0.2
BED_PORT=8080
BED_DIR=""
declare -A BED_PIDS=()

bed_in() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# bed_link NS IF ADDR MAC: veth IF in NS (ADDR/24, MAC), peer in the bridge.
bed_link() {
  local ns=$1 ifname=$2 addr=$3 mac=$4
  local peer="p${ns##*-}"
  ip link add "$ifname" netns "$ns" address "$mac" type veth peer name "$peer" netns "$BED_NS_BR" || return 1
  ip -n "$BED_NS_BR" link set "$peer" master br0 up || return 1
  ip -n "$ns" addr add "$addr/24" dev "$ifname" || return 1
  ip -n "$ns" link set "$ifname" up && ip -n "$ns" link set lo up
}

bed_setup() {
  BED_DIR=$(mktemp -d /tmp/xo-testbed.XXXXXX) || return 1
  local ns
  for ns in "$BED_NS_BR" "$BED_NS_CL" "$BED_NS_GW" "$BED_NS_R1" "$BED_NS_R2"; do
    ip netns add "$ns" || return 1
  done
  ip -n "$BED_NS_BR" link add br0 type bridge || return 1
  ip -n "$BED_NS_BR" link set br0 up || return 1
  bed_link "$BED_NS_CL" c0 198.18.0.1 02:00:00:00:00:01 || return 1
  bed_link "$BED_NS_GW" g0 "$BED_VIP" 02:00:00:00:00:02 || return 1
  bed_link "$BED_NS_R1" r0 198.18.0.11 02:00:00:00:00:11 || return 1
  bed_link "$BED_NS_R2" r0 198.18.0.12 02:00:00:00:00:12 || return 1
  # Each responder its own channel key; the gateway holds them by address.
  mkdir -m 700 "$BED_DIR/keys" || return 1
  local r
  for r in r1:198.18.0.11 r2:198.18.0.12; do
    (umask 077 && printf 'xo-%s %s\n' "${r%%:*}" "$(openssl rand -hex 32)" > "$BED_DIR/${r%%:*}.key") || return 1
    cp -p "$BED_DIR/${r%%:*}.key" "$BED_DIR/keys/${r#*:}.key" || return 1
  done
}

# bed_prepare_xdp: what native XDP on the gateway's veth needs in a test bed:
# an XDP program on the bridge-side peer (else XDP_TX frames are dropped) and
# no TX checksum offload on the client (native XDP on veth loses
# CHECKSUM_PARTIAL; a real NIC receives complete checksums). kernel.md.
bed_prepare_xdp() {
  ip -n "$BED_NS_BR" link set dev pgw xdp obj "$BED_BIN/xdp_pass.bpf.o" sec xdp || return 1
  bed_in "$BED_NS_CL" ethtool -K c0 tx off > /dev/null
}

# bed_wait_ready NAME: until the daemon NAME printed "ready" (10 s at most).
bed_wait_ready() {
  local name=$1 i
  for i in $(seq 100); do
    grep -q '^ready' "$BED_DIR/$name.out" 2>/dev/null && return 0
    kill -0 "${BED_PIDS[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "bed: $name did not start:" >&2
  cat "$BED_DIR/$name.out" "$BED_DIR/$name.err" >&2
  return 1
}

# bed_start_responder NAME NS ADDR [extra responder options...]; a restarted
# responder appends to its predecessor's stderr, so no report is lost.
bed_start_responder() {
  local name=$1 ns=$2 addr=$3
  shift 3
  nsenter --net="/run/netns/$ns" -- "$BED_BIN/xo-testbed-responder" --control "$addr:7000" --address "$addr" \
    --gateway-address "$BED_VIP" --ifname r0 --instance "$BED_ID-$name" --key "$BED_DIR/$name.key" \
    --limit-scale "${XO_BED_LIMIT_SCALE:-1}" "$@" > "$BED_DIR/$name.out" 2>> "$BED_DIR/$name.err" &
  BED_PIDS[$name]=$!
  bed_wait_ready "$name"
}

# bed_start_gateway [extra gateway options...]: the gateway, handing off to
# the responders listed in BED_RESPONDERS (default: r1 and r2).
BED_RESPONDERS=(r1 r2)
bed_start_gateway() {
  local r args=()
  for r in "${BED_RESPONDERS[@]}"; do
    case $r in
      r1) args+=(--responder 198.18.0.11:7000,198.18.0.11,02:00:00:00:00:11) ;;
      r2) args+=(--responder 198.18.0.12:7000,198.18.0.12,02:00:00:00:00:12) ;;
    esac
  done
  nsenter --net="/run/netns/$BED_NS_GW" -- "$BED_BIN/xo-testbed-gateway" --listen "$BED_VIP:$BED_PORT" --ifname g0 \
    --instance "$BED_ID-gw" --keys "$BED_DIR/keys" --limit-scale "${XO_BED_LIMIT_SCALE:-1}" "${args[@]}" "$@" \
    > "$BED_DIR/gw.out" 2> "$BED_DIR/gw.err" &
  BED_PIDS[gw]=$!
  bed_wait_ready gw
}

# bed_start_all [extra gateway options...]: the responders in BED_RESPONDERS, then the gateway.
bed_start_all() {
  local r
  for r in "${BED_RESPONDERS[@]}"; do
    case $r in
      r1) bed_start_responder r1 "$BED_NS_R1" 198.18.0.11 || return 1 ;;
      r2) bed_start_responder r2 "$BED_NS_R2" 198.18.0.12 || return 1 ;;
    esac
  done
  bed_start_gateway "$@"
}

# bed_client ARGS...: run the client in the client namespace, killed after
# BED_CLIENT_TIMEOUT seconds (default 120).
bed_client() {
  timeout "${BED_CLIENT_TIMEOUT:-120}" nsenter --net="/run/netns/$BED_NS_CL" -- \
    "$BED_BIN/xo-testbed-client" --host "$BED_VIP" --port "$BED_PORT" "$@"
}

# bed_stop NAME: SIGTERM, then SIGKILL after 5 s; waits for the process.
bed_stop() {
  local name=$1 pid=${BED_PIDS[$1]:-} i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "BED_PIDS[$name]"
}

bed_teardown() {
  local name ns
  for name in "${!BED_PIDS[@]}"; do bed_stop "$name"; done
  for ns in "$BED_NS_CL" "$BED_NS_GW" "$BED_NS_R1" "$BED_NS_R2" "$BED_NS_BR"; do
    [[ -e /run/netns/$ns ]] && ip netns del "$ns"
  done
  rm -rf /sys/fs/bpf/xo/"$BED_ID"-* 2>/dev/null
  # The shared parent goes with its last user (a daemon killed by a scenario
  # never got to remove it); rmdir leaves it while other instances use it.
  rmdir /sys/fs/bpf/xo 2>/dev/null || true
  [[ -n $BED_DIR && -z ${XO_BED_KEEP:-} ]] && rm -rf "$BED_DIR"
  BED_DIR=""
}
