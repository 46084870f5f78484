#!/usr/bin/env bash
# xo-vstart.sh — a throwaway XO-Ceph cluster on one machine, in network namespaces.
#
# Theory of operation
# -------------------
# Every "host" is a network namespace; the machine's root namespace gets nothing
# (no interface, no address, no route). A namespace <inst>-br holds only a
# bridge; every other namespace is joined to it by a veth pair created directly
# between the two namespaces. Addresses come from 198.18.0.0/24 (RFC 2544), so
# nothing can leak out even by mistake.
#
#   <inst>-gw      198.18.0.2      ceph-mon, [ceph-mgr], two radosgw, xo-gateway
#   <inst>-osdI    198.18.0.(10+I) one ceph-osd (memstore) and one xo-responder per host
#   <inst>-client  198.18.0.100    nothing runs here; tests, s3cmd, boto3, ceph CLI run here
#
# Daemons run under `unshare --uts` with their namespace's name as hostname, so
# CRUSH sees one host per OSD and pools of size 2 spread over hosts.
#
# `start` goes: config + keys → network → mon → one librados session that
# registers the OSDs and pre-creates every pool radosgw would otherwise create
# lazily (that, plus `paxos propose interval = 0.1`, is what makes startup
# fast) → OSDs and their hosts' xo-responders (in parallel) → [mgr] → radosgw →
# S3 users → xo-gateway. Handoff keys are fresh per cluster, in <run dir>/keys:
# each responder its own control channel key (responder.I.key), of which the
# gateway holds a copy per responder address (gateway/<ip>.key), and the
# ticket key (ticket.key) with which the gateway signs what responders serve;
# offload is on unless XO_OFFLOAD=0, with XO_OFFLOAD_THRESHOLD (bytes, default
# 1 MiB): larger GET bodies are sent by the responder of the object's host.
# Any failure or signal during `start` runs `stop`.
#
# Two radosgw serve the same zone, pools and users. The gateway's upstream
# (127.0.0.1:8000) takes the client's address from the gateway's
# X-XO-Client-Addr header (`rgw remote addr param`) for logs and aws:SourceIp,
# so it listens on the gateway host's loopback only: whoever could reach it
# could claim any address. The other (198.18.0.2:8000, XO_RGW_ENDPOINT, what
# tests and benchmarks compare with) takes the socket's address.
#
# The XO daemons run as user xo (scripts/install-deps.sh creates it) with
# only the capabilities they need, no_new_privs and cephx users of their own
# that may only read (see RESPONDER_CAPS and write_keyrings); they read only
# files of theirs: the handoff keys and their keyrings, 0600. Every keyring is
# 0600. docs/architecture.md, "Privileges", has the why of each.
#
# The XO daemons pin their BPF maps (flow and rewrite tables) so that a
# restarted daemon finds what its predecessor left: the gateway keeps the
# transfers its responders are still sending, both sweep what no live
# process owns. `ip netns exec` gives every command a fresh /sys without
# bpffs, and a bpffs mounted there would die with the daemon's mount
# namespace, pins and all. So `start` mounts one bpffs instance for the whole
# cluster at <run dir>/bpffs, owned by xo, and every XO daemon's launcher
# bind-mounts it on its own /sys/fs/bpf before becoming xo. `start-gateway`
# and `start-responder N` start a daemon again after a test killed it (same
# command line, same environment as `start`), whose maps are then the ones
# its predecessor pinned.
#
# `stop` needs no state but the namespace names: it notes each host
# namespace's inode and deletes its name (so nothing new can enter), then
# signals what still lives in those namespaces — radosgw and xo-gateway, then
# OSDs, then mgr, then everything else (the mon last, or the OSDs wait for it)
# — and waits until each process has really left (a zombie has already left its
# namespace, so it is not mistaken for a live process). Then it deletes the
# bridge namespace, the daemons' pinned BPF maps, unmounts the bpffs and
# deletes the run directory. Nothing outside our own namespaces
# is ever signalled, and stop ignores INT/TERM/HUP so it cannot be cut half-way.
#
# HTTPS: `start` makes a test CA (EC P-256) and a server certificate for the
# gateway's address (SAN IP:198.18.0.2) in <run dir>/tls, signed by it and
# trusted by every client config of the client namespace (s3cfg-https, the
# aws-cli config's ca_bundle, XO_CA_FILE for boto3 and curl). xo-gateway
# serves HTTPS on :443 and radosgw direct on :8443 (XO_S3_HTTPS_ENDPOINT,
# XO_RGW_HTTPS_ENDPOINT) with the same certificate and key; the key is 0600,
# owned by xo. The CA key stays root's, for tests that issue a new server
# certificate (SIGHUP reload).
#
# All files live under the run directory: ceph.conf, keyrings, daemon data,
# logs, admin sockets, pid files, client configs, TLS files.
set -Eeuo pipefail

SELF=$(basename "$0")
REPO_DIR=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
readonly SELF REPO_DIR

readonly INST=${XO_INSTANCE:-xo}
readonly OSDS=${XO_OSDS:-3}
readonly MGR=${XO_MGR:-0}
readonly GATEWAY_BIN=${XO_GATEWAY_BIN:-$REPO_DIR/build/rgw_xo/xo-gateway}
readonly GATEWAY_ARGS=${XO_GATEWAY_ARGS:-}
readonly RESPONDER_ARGS=${XO_RESPONDER_ARGS:-}
readonly RESPONDER_BIN=${XO_RESPONDER_BIN:-$REPO_DIR/build/osd_xo/xo-responder}
readonly OFFLOAD=${XO_OFFLOAD:-1}
readonly OFFLOAD_THRESHOLD=${XO_OFFLOAD_THRESHOLD:-1048576}
readonly OFFLOAD_STALL_TIMEOUT=${XO_OFFLOAD_STALL_TIMEOUT:-10}
readonly RUN=${XO_RUN_DIR:-/tmp/xo-$INST}
readonly MEMSTORE_BYTES=${XO_MEMSTORE_BYTES:-$((4 << 30))}

readonly NS_BR=$INST-br
readonly NS_GW=$INST-gw
readonly NS_CLIENT=$INST-client
readonly NET_PREFIX=198.18.0
readonly GW_IP=$NET_PREFIX.2
readonly CLIENT_IP=$NET_PREFIX.100
readonly RGW_PORT=8000
readonly S3_PORT=80
readonly S3_HTTPS_PORT=443
readonly RGW_HTTPS_PORT=8443
readonly METRICS_PORT=9100
readonly RESPONDER_PORT=7481
readonly RESPONDER_METRICS_PORT=9101

readonly CONF=$RUN/ceph.conf
readonly MARKER=$RUN/.xo-vstart
readonly RGW_NAME=client.rgw.gw          # the gateway's upstream: trusts its client-address header
readonly RGW_DIRECT_NAME=client.rgw.direct  # XO_RGW_ENDPOINT: judges clients by their socket address
readonly XO_USER=xo                       # the XO daemons' user (scripts/install-deps.sh creates it)
readonly GATEWAY_CEPH_ID=xo-gateway RESPONDER_CEPH_ID=xo-responder
readonly GATEWAY_LOG=$RUN/xo-gateway.log
readonly GATEWAY_ACCESS_LOG=$RUN/xo-gateway.access.log
readonly KEYS=$RUN/keys TICKET_KEY=$RUN/keys/ticket.key   # owned by $XO_USER
readonly XO_DIR=$RUN/xo                   # owned by $XO_USER: the XO daemons' keyrings
readonly BPFFS=$RUN/bpffs
readonly TLS=$RUN/tls                     # test CA and the gateway's certificate (see write_tls_files)
readonly CA_CERT=$TLS/ca.crt SERVER_CERT=$TLS/server.crt SERVER_KEY=$TLS/server.key   # the key owned by $XO_USER

# Fixed test credentials (throwaway clusters only).
readonly USER1=xo-test  ACCESS_KEY1=XOTESTACCESSKEY00001 SECRET_KEY1=xotestsecretkey000000000000000000000001
readonly USER2=xo-test2 ACCESS_KEY2=XOTESTACCESSKEY00002 SECRET_KEY2=xotestsecretkey000000000000000000000002

# Pools radosgw 16.2 creates lazily on first use (~2 s each); we create them up front.
readonly RGW_POOLS=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta
  default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)

usage() {
  cat <<EOF
usage: $SELF start|stop|status|env|--help

  start   bring up mon, [mgr], N OSD hosts, radosgw and xo-gateway in network namespaces
  stop    remove every process, namespace and file of this instance (idempotent)
  status  what runs where (exit 0 running, 3 not running)
  env     print 'export VAR=value' lines; use: eval "\$($SELF env)"
  start-responder N [ARG...]  start the xo-responder of OSD host N again (after a test killed it),
                      with ARGs appended to its command line
  start-gateway       start xo-gateway again (after a test killed it)

environment:
  XO_INSTANCE=name     instance name, [a-z0-9], <= 8 chars (default xo); namespaces are
                       name-br, name-gw, name-osd0.., name-client
  XO_OSDS=N            number of OSD hosts, one OSD each (default 3)
  XO_MGR=0|1           also run ceph-mgr (default 0)
  XO_GATEWAY_BIN=path  xo-gateway binary (default <repo>/build/rgw_xo/xo-gateway)
  XO_GATEWAY_ARGS=...  extra arguments appended to xo-gateway's command line
  XO_RESPONDER_BIN=path  xo-responder binary (default <repo>/build/osd_xo/xo-responder)
  XO_RESPONDER_ARGS=...  extra arguments appended to xo-responder's command line
                       (also for start-responder, e.g. a test's small --max-connections)
  XO_OFFLOAD=0|1       offload large GETs to the responders (default 1)
  XO_OFFLOAD_THRESHOLD=bytes  GET bodies larger than this are offloaded (default 1048576)
  XO_OFFLOAD_STALL_TIMEOUT=s  an offloaded transfer without progress this long is reset (default 10)
  XO_RUN_DIR=dir       all files of the instance (default /tmp/xo-<instance>)
  XO_MEMSTORE_BYTES=n  capacity of each memstore OSD (default 4 GiB, allocated lazily)

addresses: gateway $GW_IP (xo-gateway :$S3_PORT and HTTPS :$S3_HTTPS_PORT, radosgw :$RGW_PORT and HTTPS :$RGW_HTTPS_PORT;
           the gateway's radosgw 127.0.0.1:$RGW_PORT),
           OSD host I $NET_PREFIX.(10+I), client $CLIENT_IP
EOF
}

# ---------------------------------------------------------------- helpers

log() { printf '%s: %s\n' "$SELF" "$*" >&2; }
die() { log "error: $*"; exit 1; }

now() { echo "$EPOCHREALTIME"; }
elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

osd_ns() { echo "$INST-osd$1"; }
osd_ip() { echo "$NET_PREFIX.$((10 + $1))"; }

# sh -c script: set the hostname to $0, then become "$@".
# shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
readonly HOSTNAME_THEN_EXEC='hostname "$0" && exec "$@"'
# The same for an XO daemon, which pins its BPF maps but may not mount
# anything once its capabilities are dropped: bind the cluster's bpffs ($1)
# onto the fresh /sys/fs/bpf that `ip netns exec` left without one.
# shellcheck disable=SC2016
readonly HOSTNAME_BPFFS_THEN_EXEC='hostname "$0" && mount --bind "$1" /sys/fs/bpf && shift && exec "$@"'

# The XO daemons run as user $XO_USER with only the capabilities their work
# needs: CAP_NET_ADMIN (TCP_REPAIR, attaching XDP/TC) and CAP_BPF (programs and
# maps), plus CAP_NET_BIND_SERVICE for the gateway's port 80. setpriv gives
# them as ambient capabilities — what a non-root user keeps across exec into a
# binary without file capabilities — so they are the daemon's permitted and
# effective sets; the bounding set holds nothing else (neither daemon nor
# anything it runs can regain CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, ...), and
# no_new_privs closes setuid binaries and file capabilities too.
readonly RESPONDER_CAPS=-all,+net_admin,+bpf
readonly GATEWAY_CAPS=-all,+net_admin,+bpf,+net_bind_service

# xo_setpriv CAPS: setpriv's arguments (one a line) for an XO daemon with CAPS.
xo_setpriv() {
  printf '%s\n' --reuid="$XO_USER" --regid="$XO_USER" --clear-groups --bounding-set="$1" \
    --inh-caps="$1" --ambient-caps="$1" --no-new-privs
}

# Run a command in namespace $1 with hostname $1 (own UTS namespace).
in_host() {
  local ns=$1; shift
  ip netns exec "$ns" unshare --uts -- sh -c "$HOSTNAME_THEN_EXEC" "$ns" "$@"
}
in_client() { ip netns exec "$NS_CLIENT" "$@"; }
ceph_cli() { in_client timeout 30 ceph -c "$CONF" "$@"; }

# Show the end of a log on stderr (start failures delete the run directory).
show_log_tail() {
  [[ -f $1 ]] || return 0
  log "last lines of $1:"
  tail -n 20 "$1" >&2 || true
}

# Poll "$@" every 0.1 s until it succeeds or $1 seconds pass.
wait_until() {
  local tries=$(($1 * 10)); shift
  until "$@"; do
    ((--tries > 0)) || return 1
    sleep 0.1
  done
}

tcp_port_open() { ip netns exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }

pid_from_file() { [[ -s $1 ]] && cat "$1"; }
pid_running() { [[ -n $1 && -d /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
# Whether every thread of process $1 has exited. A killed process's main thread
# may be a zombie while others still exit, holding its sockets (a restart would
# find its ports in use); a zombie thread has closed them.
threads_exited() {
  local stat state
  for stat in /proc/"$1"/task/*/stat; do
    state=$(sed 's/.*) //' "$stat" 2>/dev/null | cut -d' ' -f1) || continue
    [[ -z $state || $state == [ZX] ]] || return 1
  done
}
# restartable NAME PIDFILE: die if NAME still runs; wait until a killed one is gone.
restartable() {
  local pid
  pid=$(pid_from_file "$2") || return 0
  ! pid_running "$pid" || die "$1 is running"
  wait_until 10 threads_exited "$pid" || die "$1 (pid $pid) is still exiting"
}

# Our namespaces that exist right now (also leftovers of another XO_OSDS value).
our_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' |
    grep -E "^${INST}-(br|gw|client|osd[0-9]+)\$" || true
}

validate_config() {
  [[ $INST =~ ^[a-z0-9]{1,8}$ ]] || die "XO_INSTANCE must be 1-8 characters [a-z0-9] (namespace names are <= 15)"
  if ! [[ $OSDS =~ ^[0-9]+$ ]] || ((OSDS < 1 || OSDS > 64)); then die "XO_OSDS must be 1..64"; fi
  [[ $MGR == 0 || $MGR == 1 ]] || die "XO_MGR must be 0 or 1"
  [[ $RUN == /* && $RUN != / ]] || die "XO_RUN_DIR must be an absolute path"
  # An XO_RUN_DIR exported by 'eval "$(... env)"' of another instance must not be used (or removed) for this one.
  [[ ! -f $MARKER || $(<"$MARKER") == "$INST" ]] ||
    die "XO_RUN_DIR=$RUN belongs to instance '$(<"$MARKER")', not '$INST' (unset XO_RUN_DIR?)"
}

# ---------------------------------------------------------------- start: preparation

check_prerequisites() {
  ((EUID == 0)) || die "must run as root (network namespaces)"
  local tool
  getent passwd "$XO_USER" >/dev/null || die "no user $XO_USER; run scripts/install-deps.sh"
  for tool in ip unshare setpriv ceph ceph-authtool monmaptool ceph-mon ceph-osd radosgw radosgw-admin uuidgen curl; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh"
  done
  ((MGR == 0)) || command -v ceph-mgr >/dev/null || die "ceph-mgr not found"
  /usr/bin/python3 -c 'import rados' 2>/dev/null || die "/usr/bin/python3 cannot import rados (python3-rados)"
  [[ -f $GATEWAY_BIN && -x $GATEWAY_BIN ]] ||
    die "xo-gateway binary not found or not executable: $GATEWAY_BIN (build it, or set XO_GATEWAY_BIN)"
  ((OFFLOAD == 0)) || [[ -f $RESPONDER_BIN && -x $RESPONDER_BIN ]] ||
    die "xo-responder binary not found or not executable: $RESPONDER_BIN (build it, set XO_RESPONDER_BIN, or XO_OFFLOAD=0)"
}

refuse_if_present() {
  local existing
  existing=$(our_namespaces | tr '\n' ' ')
  [[ -z $existing ]] || die "instance '$INST' is already (partly) up: ${existing}— run '$SELF stop' first"
  [[ ! -e $RUN ]] || die "run directory $RUN exists — run '$SELF stop' first (or remove it)"
}

make_run_dir() {
  mkdir -p "$RUN"/{run,log,crash,mon.a,rgw.gw,rgw.direct}
  install -d -m 0700 -o "$XO_USER" -g "$XO_USER" "$XO_DIR"
  echo "$INST" >"$MARKER"
  ((MGR == 0)) || mkdir -p "$RUN/mgr.x"
  local i
  for ((i = 0; i < OSDS; i++)); do mkdir -p "$RUN/osd.$i"; done
  echo "$OSDS" >"$RUN/osds"
  echo "$OFFLOAD_THRESHOLD" >"$RUN/offload_threshold"
  echo "$OFFLOAD_STALL_TIMEOUT" >"$RUN/offload_stall_timeout"
  # The XO daemons' pins (see the top); stop unmounts it. Owned by their user,
  # who creates and removes the pins.
  mkdir "$BPFFS"
  mount -t bpf -o mode=0700 bpf "$BPFFS"
  chown "$XO_USER:$XO_USER" "$BPFFS"   # (not uid=/gid= mount options: kernels before 6.8 lack them)
}

gen_key() { ceph-authtool --gen-print-key; }

# One keyring per daemon, plus the mon's bootstrap keyring that seeds the auth
# database with every non-OSD entity (OSDs register through `osd new`). Every
# keyring is 0600; the XO daemons' own two belong to their user. Those two
# cephx users may only read: the gateway the monitor's maps (osd map, the
# cluster log's new-epoch lines), the data pool and the bucket entrypoints
# (namespace root of the meta pool, not the users' keys beside them); a
# responder the maps and the data pool. (A subshell: umask 077 for it alone.)
write_keyrings() (
  local admin mon mgr rgw direct gwkey rspkey i data=default.rgw.buckets.data
  admin=$(gen_key) mon=$(gen_key) mgr=$(gen_key) rgw=$(gen_key) direct=$(gen_key)
  gwkey=$(gen_key) rspkey=$(gen_key)
  umask 077
  printf '[client.admin]\n\tkey = %s\n' "$admin" >"$RUN/keyring"
  printf '[%s]\n\tkey = %s\n' "$RGW_NAME" "$rgw" >"$RUN/rgw.gw/keyring"
  printf '[%s]\n\tkey = %s\n' "$RGW_DIRECT_NAME" "$direct" >"$RUN/rgw.direct/keyring"
  printf '[client.%s]\n\tkey = %s\n' "$GATEWAY_CEPH_ID" "$gwkey" >"$XO_DIR/$GATEWAY_CEPH_ID.keyring"
  printf '[client.%s]\n\tkey = %s\n' "$RESPONDER_CEPH_ID" "$rspkey" >"$XO_DIR/$RESPONDER_CEPH_ID.keyring"
  chown "$XO_USER:$XO_USER" "$XO_DIR"/*.keyring
  cat >"$RUN/mon.keyring" <<EOF
[mon.]
	key = $mon
	caps mon = "allow *"
[client.admin]
	key = $admin
	caps mon = "allow *"
	caps osd = "allow *"
	caps mgr = "allow *"
	caps mds = "allow *"
[$RGW_NAME]
	key = $rgw
	caps mon = "allow rw"
	caps osd = "allow rwx"
	caps mgr = "allow rw"
[$RGW_DIRECT_NAME]
	key = $direct
	caps mon = "allow rw"
	caps osd = "allow rwx"
	caps mgr = "allow rw"
[client.$GATEWAY_CEPH_ID]
	key = $gwkey
	caps mon = "allow r"
	caps osd = "allow r pool=$data, allow r pool=default.rgw.meta namespace=root"
[client.$RESPONDER_CEPH_ID]
	key = $rspkey
	caps mon = "allow r"
	caps osd = "allow r pool=$data"
EOF
  if ((MGR)); then
    printf '[mgr.x]\n\tkey = %s\n' "$mgr" >"$RUN/mgr.x/keyring"
    cat >>"$RUN/mon.keyring" <<EOF
[mgr.x]
	key = $mgr
	caps mon = "allow profile mgr"
	caps osd = "allow *"
	caps mds = "allow *"
EOF
  fi
  for ((i = 0; i < OSDS; i++)); do
    uuidgen >"$RUN/osd.$i/xo-uuid"
    printf '[osd.%d]\n\tkey = %s\n' "$i" "$(gen_key)" >"$RUN/osd.$i/keyring"
  done
)

# The `xo` entry of radosgw's `rgw frontends`: how operators enable XO-Ceph,
# and all xo-gateway reads besides --name (README "Enable").
xo_frontend_entry() {
  local entry=(xo "endpoint=$GW_IP:$S3_PORT" "ssl_endpoint=$GW_IP:$S3_HTTPS_PORT" "ssl_certificate=$SERVER_CERT"
    "ssl_private_key=$SERVER_KEY" "access_log=$GATEWAY_ACCESS_LOG" "metrics_listen=$GW_IP:$METRICS_PORT")
  # TC, not native XDP: XDP_TX on a veth needs an XDP program on the peer in the
  # bridge namespace and loses the client's partial checksums (notes/kernel.md).
  ((OFFLOAD == 0)) || entry+=("channel_keys=$KEYS/gateway" "ticket_key=$TICKET_KEY"
    "offload_threshold=$OFFLOAD_THRESHOLD" "offload_stall_timeout=$OFFLOAD_STALL_TIMEOUT" offload_ifname=eth0
    offload_attach=tc "offload_instance=$NS_GW" "responder_port=$RESPONDER_PORT")
  echo "${entry[*]}"
}

write_ceph_conf() {
  local size=$((OSDS >= 2 ? 2 : 1))
  cat >"$CONF" <<EOF
# Written by $SELF for instance '$INST'; removed by '$SELF stop'.
# No global 'keyring' or 'admin socket' line: the first breaks daemon cephx,
# the second makes parallel CLI calls collide.
[global]
fsid = $(uuidgen)
mon host = [v2:$GW_IP:3300,v1:$GW_IP:6789]
public network = $NET_PREFIX.0/24
run dir = $RUN/run
crash dir = $RUN/crash
osd pool default size = $size
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 500
# Let the mon mark every OSD down on request: otherwise the last OSDs to stop wait 5 s for an ack.
mon osd min up ratio = 0
mon data avail warn = 2
mon data avail crit = 1
mon warn on insecure global id reclaim allowed = false
mon cluster log file = $RUN/log/\$cluster.\$channel.log

[mon]
mon data = $RUN/\$name
keyring = \$mon_data/keyring
log file = $RUN/log/\$name.log
pid file = $RUN/run/\$name.pid
paxos propose interval = 0.1

[mgr]
mgr data = $RUN/\$name
keyring = \$mgr_data/keyring
log file = $RUN/log/\$name.log
pid file = $RUN/run/\$name.pid

[osd]
osd data = $RUN/\$name
keyring = \$osd_data/keyring
log file = $RUN/log/\$name.log
pid file = $RUN/run/\$name.pid
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES

[client]
keyring = $RUN/keyring

[$RGW_NAME]
keyring = $RUN/rgw.gw/keyring
log file = $RUN/log/\$name.log
pid file = $RUN/run/\$name.pid
rgw data = $RUN/rgw.gw
# beast only where xo-gateway reaches it: this one takes the client's address
# from the gateway's header, which anyone else could forge. The xo entry is
# xo-gateway's configuration (it runs as --name $RGW_NAME); radosgw skips it.
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1, $(xo_frontend_entry)
rgw remote addr param = HTTP_X_XO_CLIENT_ADDR
rgw thread pool size = 64

# XO_RGW_ENDPOINT, the reference the tests and benchmarks compare with: same
# zone, pools and users, but the client's address is its socket's.
[$RGW_DIRECT_NAME]
keyring = $RUN/rgw.direct/keyring
log file = $RUN/log/\$name.log
pid file = $RUN/run/\$name.pid
rgw data = $RUN/rgw.direct
rgw frontends = beast endpoint=$GW_IP:$RGW_PORT ssl_endpoint=$GW_IP:$RGW_HTTPS_PORT ssl_certificate=$SERVER_CERT ssl_private_key=$SERVER_KEY tcp_nodelay=1
rgw thread pool size = 64

# The XO daemons (user $XO_USER) read only their own keyrings.
[client.$GATEWAY_CEPH_ID]
keyring = $XO_DIR/$GATEWAY_CEPH_ID.keyring

[client.$RESPONDER_CEPH_ID]
keyring = $XO_DIR/$RESPONDER_CEPH_ID.keyring
EOF
}

# ---------------------------------------------------------------- start: network

# Namespace $1 with loopback up.
add_namespace() {
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# Host namespace $1 with eth0 = $2/24, cabled to bridge port $3.
add_host() {
  local ns=$1 addr=$2 port=$3
  add_namespace "$ns"
  ip link add eth0 netns "$ns" type veth peer name "$port" netns "$NS_BR"
  ip -n "$NS_BR" link set "$port" master br0 up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
}

build_network() {
  add_namespace "$NS_BR"
  ip -n "$NS_BR" link add br0 type bridge
  ip -n "$NS_BR" link set br0 up
  add_host "$NS_GW" "$GW_IP" gw
  add_host "$NS_CLIENT" "$CLIENT_IP" client
  local i
  for ((i = 0; i < OSDS; i++)); do add_host "$(osd_ns "$i")" "$(osd_ip "$i")" "osd$i"; done
}

# ---------------------------------------------------------------- start: ceph

start_mon() {
  monmaptool --create --clobber --fsid "$(awk '$1 == "fsid" {print $3}' "$CONF")" \
    --addv a "[v2:$GW_IP:3300,v1:$GW_IP:6789]" "$RUN/monmap" >/dev/null
  # --mkfs must run in the mon's namespace: it checks 'public network' against local addresses.
  ip netns exec "$NS_GW" ceph-mon -c "$CONF" -i a --mkfs --monmap "$RUN/monmap" \
    --keyring "$RUN/mon.keyring" >"$RUN/log/mon.a.mkfs.log" 2>&1 ||
    { show_log_tail "$RUN/log/mon.a.mkfs.log"; die "ceph-mon --mkfs failed"; }
  in_host "$NS_GW" ceph-mon -c "$CONF" -i a >>"$RUN/log/mon.a.out" 2>&1
}

# One librados session (one mon round trip each, no CLI start-up cost):
# register every OSD with its key, create radosgw's pools and tag them 'rgw'.
bootstrap_cluster() {
  local args=() i
  for ((i = 0; i < OSDS; i++)); do
    args+=("$i" "$(cat "$RUN/osd.$i/xo-uuid")" "$(awk '$1 == "key" {print $3}' "$RUN/osd.$i/keyring")")
  done
  ip netns exec "$NS_CLIENT" /usr/bin/python3 - "$CONF" "${RGW_POOLS[*]}" "${args[@]}" <<'EOF'
import json, sys
from concurrent.futures import ThreadPoolExecutor
import rados

conf, pools, osds = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
cluster = rados.Rados(conffile=conf, name="client.admin")
cluster.connect(timeout=20)

def mon(cmd, inbuf=b""):
    ret, _, err = cluster.mon_command(json.dumps(cmd), inbuf, timeout=20)
    if ret != 0:
        raise RuntimeError(f"mon command {cmd['prefix']} failed ({ret}): {err}")

def concurrently(calls):
    # Commands in flight together share one paxos round (librados drops the GIL).
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(mon, *call) for call in calls]:
            future.result()

osd_new = [({"prefix": "osd new", "uuid": uuid, "id": int(osd_id)},
            json.dumps({"cephx_secret": secret}).encode())
           for osd_id, uuid, secret in zip(osds[0::3], osds[1::3], osds[2::3])]
create = [({"prefix": "osd pool create", "pool": p, "pg_num": 8, "pgp_num": 8},) for p in pools]
tag = [({"prefix": "osd pool application enable", "pool": p, "app": "rgw"},) for p in pools]
try:
    concurrently(osd_new + create)
    concurrently(tag)
except RuntimeError as e:
    sys.exit(str(e))
finally:
    cluster.shutdown()
EOF
}

# One key file line: "<id> <64 hex digits>".
key_line() { printf '%s %s\n' "$1" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"; }

# Handoff keys: a control channel key per responder (the gateway holds each
# under the responder's address) and the ticket key. Files 0600, directories
# 0700, readable by the daemons' user alone.
write_handoff_keys() {
  local i
  (
    umask 077
    mkdir -p "$KEYS/gateway"
    key_line ticket-1 >"$TICKET_KEY"
    for ((i = 0; i < OSDS; i++)); do
      key_line "$(osd_ns "$i")-1" >"$KEYS/responder.$i.key"
      cp "$KEYS/responder.$i.key" "$KEYS/gateway/$(osd_ip "$i").key"
    done
  )
  chown -R "$XO_USER:$XO_USER" "$KEYS"
}

# A test CA and the gateway's server certificate, both EC P-256, valid 30 days.
# The CA key and the CA stay root's (0600/0644); the server key is 0600 and
# belongs to the daemons' user, the server certificate (the leaf: clients
# trust the CA) is 0644. radosgw direct (root) uses the same pair. A random
# serial per certificate, so tests can tell a reloaded certificate apart.
write_tls_files() {
  local serial
  serial=0x$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
  install -d -m 0755 "$TLS"
  (
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS/ca.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$SERVER_KEY"
  ) 2>"$RUN/log/tls.err" || { show_log_tail "$RUN/log/tls.err"; die "could not make TLS keys"; }
  chown "$XO_USER:$XO_USER" "$SERVER_KEY"
  openssl req -x509 -new -key "$TLS/ca.key" -sha256 -days 30 -subj "/O=XO-Ceph/CN=XO-Ceph test CA $INST" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$CA_CERT" 2>>"$RUN/log/tls.err" &&
  openssl req -new -key "$SERVER_KEY" -subj "/O=XO-Ceph/CN=$GW_IP" 2>>"$RUN/log/tls.err" |
    openssl x509 -req -CA "$CA_CERT" -CAkey "$TLS/ca.key" -set_serial "$serial" -days 30 -sha256 \
      -extfile <(printf '%s\n' "subjectAltName=IP:$GW_IP" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth") \
      -out "$SERVER_CERT" 2>>"$RUN/log/tls.err" ||
    { show_log_tail "$RUN/log/tls.err"; die "could not make the test CA and server certificate"; }
  chmod 0644 "$CA_CERT" "$SERVER_CERT"
}

# xo-responder on OSD host $1: serves offloaded GETs from there; arguments
# after $1 are appended to its command line (after XO_RESPONDER_ARGS).
start_xo_responder() {
  local i=$1 ns ip extra=() priv=()
  shift
  read -ra extra <<<"$RESPONDER_ARGS"
  extra+=("$@")
  mapfile -t priv < <(xo_setpriv "$RESPONDER_CAPS")
  ns=$(osd_ns "$i") ip=$(osd_ip "$i")
  ip netns exec "$ns" unshare --uts -- setsid sh -c "$HOSTNAME_BPFFS_THEN_EXEC" "$ns" "$BPFFS" \
    setpriv "${priv[@]}" -- \
    "$RESPONDER_BIN" --control "$ip:$RESPONDER_PORT" --address "$ip" --gateway-address "$GW_IP" --ifname eth0 --instance "$ns" \
    --channel-key "$KEYS/responder.$i.key" --ticket-key "$TICKET_KEY" --metrics-listen "$ip:$RESPONDER_METRICS_PORT" \
    --ceph-conf "$CONF" --ceph-id "$RESPONDER_CEPH_ID" "${extra[@]}" \
    </dev/null >>"$RUN/log/xo-responder.$i.log" 2>&1 &
  echo $! >"$RUN/run/xo-responder.$i.pid"
}

# responders_listening I...: whether the responders of OSD hosts I... listen (dies if one exited).
responders_listening() {
  local i
  for i in "$@"; do
    pid_running "$(pid_from_file "$RUN/run/xo-responder.$i.pid")" ||
      { show_log_tail "$RUN/log/xo-responder.$i.log"; die "xo-responder on $(osd_ns "$i") exited during start-up"; }
    # The metrics port, bound after the control port: probing the control
    # port would cost the responder a failed TLS handshake (and a warning).
    tcp_port_open "$(osd_ns "$i")" "$(osd_ip "$i")" "$RESPONDER_METRICS_PORT" || return 1
  done
}

wait_for_responders() {
  ((OFFLOAD)) || return 0
  wait_until 20 responders_listening $(seq 0 $((OSDS - 1))) || die "xo-responders did not listen within 20 s"
}

# Everything that runs on OSD host $1.
start_osd_host() {
  local i=$1 ns
  ns=$(osd_ns "$i")
  in_host "$ns" ceph-osd -c "$CONF" -i "$i" --mkfs --osd-uuid "$(cat "$RUN/osd.$i/xo-uuid")" \
    >"$RUN/log/osd.$i.mkfs.log" 2>&1 || { show_log_tail "$RUN/log/osd.$i.mkfs.log"; return 1; }
  in_host "$ns" ceph-osd -c "$CONF" -i "$i" --crush-location "root=default host=$ns" \
    >>"$RUN/log/osd.$i.out" 2>&1 || { show_log_tail "$RUN/log/osd.$i.out"; return 1; }
  ((OFFLOAD == 0)) || start_xo_responder "$i"
}

start_osds() {
  local i pids=()
  for ((i = 0; i < OSDS; i++)); do
    start_osd_host "$i" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "OSD host $(osd_ns "$i") failed to start"
  done
}

start_mgr() {
  in_host "$NS_GW" ceph-mgr -c "$CONF" -i x >>"$RUN/log/mgr.x.out" 2>&1 ||
    { show_log_tail "$RUN/log/mgr.x.out"; die "ceph-mgr failed to start"; }
}

start_radosgw() {
  local name
  for name in "$RGW_NAME" "$RGW_DIRECT_NAME"; do
    in_host "$NS_GW" radosgw -c "$CONF" -n "$name" >>"$RUN/log/$name.out" 2>&1 ||
      { show_log_tail "$RUN/log/$name.out"; die "radosgw $name failed to start"; }
  done
}

# rgw_alive_and_answers NAME ADDRESS: radosgw NAME runs and answers on ADDRESS:$RGW_PORT
# (radosgw direct also over HTTPS, checked against the test CA).
rgw_alive_and_answers() {
  local pid
  pid=$(pid_from_file "$RUN/run/$1.pid") || true
  if [[ -n $pid ]] && ! pid_running "$pid"; then
    show_log_tail "$RUN/log/$1.log"
    die "radosgw $1 exited during start-up"
  fi
  [[ $(ip netns exec "$NS_GW" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$2:$RGW_PORT/") == 200 ]] || return 1
  [[ $1 != "$RGW_DIRECT_NAME" ]] ||
    [[ $(ip netns exec "$NS_GW" curl -s -m 2 --cacert "$CA_CERT" -o /dev/null -w '%{http_code}' "https://$2:$RGW_HTTPS_PORT/") == 200 ]]
}

wait_for_radosgw() {
  local name addr
  for name in "$RGW_NAME:127.0.0.1" "$RGW_DIRECT_NAME:$GW_IP"; do
    addr=${name#*:} name=${name%%:*}
    wait_until 60 rgw_alive_and_answers "$name" "$addr" ||
      { show_log_tail "$RUN/log/$name.log"; die "radosgw $name did not answer on $addr:$RGW_PORT within 60 s"; }
  done
}

all_osds_up() {
  local up
  up=$(ceph_cli osd stat -f json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["num_up_osds"])') || return 1
  ((up == OSDS))
}

wait_for_osds() {
  wait_until 60 all_osds_up || die "not all $OSDS OSDs came up within 60 s (see $RUN/log)"
}

create_s3_user() {
  in_client radosgw-admin -c "$CONF" user create --uid "$1" --display-name "XO test user $1" \
    --access-key "$2" --secret-key "$3" >"$RUN/log/user-$1.json" 2>"$RUN/log/user-$1.err" ||
    { show_log_tail "$RUN/log/user-$1.err"; return 1; }
}

create_s3_users() {
  create_s3_user "$USER1" "$ACCESS_KEY1" "$SECRET_KEY1" &
  local p1=$!
  create_s3_user "$USER2" "$ACCESS_KEY2" "$SECRET_KEY2" &
  local p2=$!
  wait "$p1" || die "could not create S3 user $USER1"
  wait "$p2" || die "could not create S3 user $USER2"
}

# ---------------------------------------------------------------- start: clients and gateway

# write_s3cfg FILE ACCESS SECRET [PORT https]: s3cmd for the gateway, over
# HTTP, or over HTTPS on PORT trusting the test CA only.
write_s3cfg() {
  local port=${4:-$S3_PORT} https=False ca=
  [[ ${5:-} != https ]] || https=True ca=$CA_CERT
  cat >"$1" <<EOF
[default]
access_key = $2
secret_key = $3
host_base = $GW_IP:$port
host_bucket = $GW_IP:$port
use_https = $https
check_ssl_certificate = $https
check_ssl_hostname = $https
ca_certs_file = $ca
signature_v2 = False
bucket_location = us-east-1
EOF
}

write_client_configs() {
  write_s3cfg "$RUN/s3cfg" "$ACCESS_KEY1" "$SECRET_KEY1"
  write_s3cfg "$RUN/s3cfg2" "$ACCESS_KEY2" "$SECRET_KEY2"
  write_s3cfg "$RUN/s3cfg-https" "$ACCESS_KEY1" "$SECRET_KEY1" "$S3_HTTPS_PORT" https
  mkdir -p "$RUN/aws"
  cat >"$RUN/aws/credentials" <<EOF
[default]
aws_access_key_id = $ACCESS_KEY1
aws_secret_access_key = $SECRET_KEY1
[xo-user2]
aws_access_key_id = $ACCESS_KEY2
aws_secret_access_key = $SECRET_KEY2
EOF
  # ca_bundle: the test CA for https:// endpoints (aws-cli 2.9 has no
  # endpoint_url key: pass --endpoint-url). Debian 12's aws-cli 2.9 runs on
  # botocore 1.29 and ignores this key, so `env` also exports AWS_CA_BUNDLE.
  cat >"$RUN/aws/config" <<EOF
[default]
region = us-east-1
ca_bundle = $CA_CERT
s3 =
    addressing_style = path
    signature_version = s3v4
[profile xo-user2]
region = us-east-1
ca_bundle = $CA_CERT
s3 =
    addressing_style = path
    signature_version = s3v4
EOF
}

start_gateway() {
  local extra=() priv=()
  read -ra extra <<<"$GATEWAY_ARGS"
  mapfile -t priv < <(xo_setpriv "$GATEWAY_CAPS")
  # It appends to its access log as $XO_USER (and may not create files in $RUN).
  [[ -e $GATEWAY_ACCESS_LOG ]] || install -m 0640 -o "$XO_USER" -g "$XO_USER" /dev/null "$GATEWAY_ACCESS_LOG"
  # in_host spelled out: a backgrounded function would make $! a subshell's pid.
  # Every step execs, so $! is xo-gateway's pid. setsid: no terminal ^C reaches it.
  ip netns exec "$NS_GW" unshare --uts -- setsid sh -c "$HOSTNAME_BPFFS_THEN_EXEC" "$NS_GW" "$BPFFS" \
    setpriv "${priv[@]}" -- \
    "$GATEWAY_BIN" --name "$RGW_NAME" --ceph-conf "$CONF" --ceph-id "$GATEWAY_CEPH_ID" "${extra[@]}" \
    </dev/null >>"$GATEWAY_LOG" 2>&1 &
  echo $! >"$RUN/run/xo-gateway.pid"
}

gateway_alive_and_listening() {
  if ! pid_running "$(cat "$RUN/run/xo-gateway.pid")"; then
    show_log_tail "$GATEWAY_LOG"
    die "xo-gateway exited during start-up"
  fi
  tcp_port_open "$NS_GW" "$GW_IP" "$S3_PORT" && tcp_port_open "$NS_GW" "$GW_IP" "$S3_HTTPS_PORT"
}

wait_for_gateway() {
  wait_until 20 gateway_alive_and_listening ||
    { show_log_tail "$GATEWAY_LOG"; die "xo-gateway did not listen on $GW_IP:$S3_PORT and :$S3_HTTPS_PORT within 20 s"; }
}

# ---------------------------------------------------------------- start

START_DONE=0

on_start_exit() {
  local rc=$?
  ((START_DONE)) && return 0
  trap - ERR INT TERM HUP
  log "start failed (exit $rc); cleaning up"
  local job
  for job in $(jobs -p); do kill "$job" 2>/dev/null || true; done
  stop_instance || true
  exit "$rc"
}

cmd_start() {
  validate_config
  check_prerequisites
  refuse_if_present
  local t0 step
  t0=$(now)
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  make_run_dir
  write_handoff_keys
  write_tls_files
  write_keyrings
  write_ceph_conf
  build_network
  log "network up ($(elapsed_since "$t0") s)"
  start_mon
  step=$(now); bootstrap_cluster
  log "mon up, OSDs registered, ${#RGW_POOLS[@]} pools created ($(elapsed_since "$t0") s; bootstrap $(elapsed_since "$step") s)"
  start_osds
  ((MGR == 0)) || start_mgr
  start_radosgw
  log "OSDs$( ((MGR)) && echo ", mgr") and radosgw launched ($(elapsed_since "$t0") s)"
  wait_for_radosgw
  log "radosgw serving ($(elapsed_since "$t0") s)"
  start_gateway
  write_client_configs
  create_s3_users
  wait_for_osds
  wait_for_responders
  wait_for_gateway
  START_DONE=1
  trap - EXIT INT TERM HUP
  log "instance '$INST' serving S3 at http://$GW_IP:$S3_PORT (radosgw at :$RGW_PORT) in $(elapsed_since "$t0") s"
  log "use: eval \"\$($SELF env)\"; ip netns exec $NS_CLIENT s3cmd -c $RUN/s3cfg ls"
}

# ---------------------------------------------------------------- stop

# "name inode" for every namespace of this instance.
namespace_inodes() {
  local ns
  for ns in $(our_namespaces); do
    echo "$ns $(stat -L -c %i "/run/netns/$ns")"
  done
}

role_of_ns() {
  case $1 in
    "$NS_GW") echo gw ;;
    "$INST"-osd*) echo osd ;;
    *) echo other ;;
  esac
}

# pids of processes living in any of the network namespaces with the given inodes
# (zombies have left their namespace and so are not listed).
pids_in_netns() {
  [[ $# -gt 0 ]] || return 0
  { stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null || true; } |
    awk -v want=" $* " 'index(want, " " $1 " ") { split($2, p, "/"); print p[3] }'
}

# pids in the given namespaces whose command name matches the regex $1 ('' = any).
select_pids() {
  local pattern=$1 pid comm; shift
  for pid in $(pids_in_netns "$@"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    [[ -z $pattern || $comm =~ $pattern ]] && echo "$pid"
  done
  return 0
}

# Signal, then wait until gone: SIGTERM, up to $grace s, then SIGKILL.
# Usage: kill_and_wait DESCRIPTION COMM-REGEX GRACE NETNS-INODE...
kill_and_wait() {
  local what=$1 pattern=$2 grace=$3; shift 3
  local pids=()
  mapfile -t pids < <(select_pids "$pattern" "$@")
  ((${#pids[@]})) || return 0
  log "stopping $what (${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait_until "$grace" no_pids_left "$pattern" "$@" && return 0
  mapfile -t pids < <(select_pids "$pattern" "$@")
  log "killing $what (${pids[*]}) after $grace s"
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait_until 10 no_pids_left "$pattern" "$@" ||
    log "warning: $what still present: $(select_pids "$pattern" "$@" | tr '\n' ' ')"
}

no_pids_left() { [[ -z $(select_pids "$@") ]]; }

remove_run_dir() {
  [[ -d $RUN ]] || return 0
  if [[ -f $MARKER ]]; then
    rm -rf -- "$RUN"
  else
    log "warning: $RUN has no $(basename "$MARKER") marker; not removing it"
  fi
}

stop_instance() {
  trap '' INT TERM HUP
  local gw=() osd=() all=() ns ino
  while read -r ns ino; do
    all+=("$ino")
    case $(role_of_ns "$ns") in
      gw) gw+=("$ino") ;;
      osd) osd+=("$ino") ;;
    esac
  done < <(namespace_inodes)

  # Host names first, so that nothing new can enter; the bridge (no processes,
  # so deleting its name destroys it) last, or the OSDs wait 5 s for the mon.
  for ns in $(our_namespaces); do
    [[ $ns == "$NS_BR" ]] || ip netns del "$ns" 2>/dev/null || true
  done

  if ((${#all[@]})); then
    # radosgw takes 5-15 s to shut down cleanly; nothing of this cluster is kept, so 2 s will do.
    ((${#gw[@]} == 0)) || kill_and_wait "radosgw, xo-gateway" '^(radosgw|xo-gateway)$' 2 "${gw[@]}"
    ((${#osd[@]} == 0)) || kill_and_wait "OSD hosts" '' 10 "${osd[@]}"
    ((${#gw[@]} == 0)) || kill_and_wait "ceph-mgr" '^ceph-mgr$' 10 "${gw[@]}"
    kill_and_wait "the rest (mon, clients)" '' 10 "${all[@]}"
  fi
  ip netns del "$NS_BR" 2>/dev/null || true
  remove_pins
  remove_run_dir
}

# Pinned BPF maps of the instance's gateway and responders (a daemon that was
# killed, not stopped, leaves them behind), then the bpffs itself.
remove_pins() {
  mountpoint -q "$BPFFS" || return 0
  rm -rf -- "${BPFFS:?}/xo"   # (the kernel's own maps.debug and progs.debug cannot be removed)
  umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS"
}

cmd_start_responder() {
  validate_config
  local i=${1:-}
  [[ $i =~ ^[0-9]+$ && -d $RUN && $i -lt $(cat "$RUN/osds") ]] || die "start-responder: no OSD host '$i' in instance '$INST'"
  restartable "xo-responder $i" "$RUN/run/xo-responder.$i.pid"
  start_xo_responder "$@"
  wait_until 20 responders_listening "$i" || die "xo-responder $i did not listen within 20 s"
}

cmd_start_gateway() {
  validate_config
  { [[ -d $RUN ]] && mountpoint -q "$BPFFS"; } || die "start-gateway: instance '$INST' is not running"
  restartable xo-gateway "$RUN/run/xo-gateway.pid"
  start_gateway
  wait_for_gateway
}

cmd_stop() {
  validate_config
  stop_instance
  log "instance '$INST' stopped"
}

# ---------------------------------------------------------------- status and env

ns_address() { ip -n "$1" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}' | head -n1; }

describe_process() {
  local pid=$1 args
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
  case $args in
    *ceph-osd*) echo "ceph-osd osd.$(sed -E 's/.* -i ([0-9]+).*/\1/' <<<"$args")" ;;
    *ceph-mon*) echo "ceph-mon mon.a" ;;
    *ceph-mgr*) echo "ceph-mgr mgr.x" ;;
    *radosgw*"$RGW_DIRECT_NAME"*) echo "radosgw $GW_IP:$RGW_PORT (socket addresses)" ;;
    *radosgw*) echo "radosgw 127.0.0.1:$RGW_PORT (trusts xo-gateway's client-address header)" ;;
    *xo-gateway*) echo "xo-gateway $GW_IP:$S3_PORT ($args)" ;;
    *xo-responder*) echo "xo-responder ($args)" ;;
    *) cat "/proc/$pid/comm" 2>/dev/null || true ;;
  esac
}

cmd_status() {
  validate_config
  local namespaces ns pid
  # gateway, OSD hosts by number, client, bridge
  namespaces=$(our_namespaces | awk -v gw="$NS_GW" -v cl="$NS_CLIENT" -v br="$NS_BR" '
    { k = ($1 == gw) ? 0 : ($1 == cl) ? 2 : ($1 == br) ? 3 : 1
      n = $1; sub(/.*-osd/, "", n); print k, (k == 1 ? n : 0), $1 }' | sort -n -k1,1 -k2,2 | awk '{print $3}')
  if [[ -z $namespaces ]]; then
    echo "instance '$INST': not running"
    [[ ! -d $RUN ]] || echo "  (run directory $RUN is left over; '$SELF stop' removes it)"
    return 3
  fi
  echo "instance '$INST': run dir $RUN"
  printf '%-16s %-16s %-8s %s\n' NAMESPACE ADDRESS PID DAEMON
  for ns in $namespaces; do
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null | sort -n)
    if [[ -z $pids ]]; then
      printf '%-16s %-16s %-8s %s\n' "$ns" "$(ns_address "$ns")" - "$([[ $ns == "$NS_BR" ]] && echo "(bridge br0)" || echo "(nothing)")"
    fi
    for pid in $pids; do
      printf '%-16s %-16s %-8s %s\n' "$ns" "$(ns_address "$ns")" "$pid" "$(describe_process "$pid")"
    done
  done
  echo "S3 (xo-gateway): http://$GW_IP:$S3_PORT https://$GW_IP:$S3_HTTPS_PORT   radosgw: http://$GW_IP:$RGW_PORT https://$GW_IP:$RGW_HTTPS_PORT"
}

cmd_env() {
  validate_config
  local osds=$OSDS threshold=$OFFLOAD_THRESHOLD stall=$OFFLOAD_STALL_TIMEOUT i nses=() metrics=()
  [[ ! -f $RUN/osds ]] || osds=$(cat "$RUN/osds")
  [[ ! -f $RUN/offload_stall_timeout ]] || stall=$(cat "$RUN/offload_stall_timeout")
  [[ ! -f $RUN/offload_threshold ]] || threshold=$(cat "$RUN/offload_threshold")
  for ((i = 0; i < osds; i++)); do
    nses+=("$(osd_ns "$i")")
    metrics+=("http://$(osd_ip "$i"):$RESPONDER_METRICS_PORT/metrics")
  done
  [[ -n $(our_namespaces) ]] || log "warning: instance '$INST' is not running"
  local -a vars=(
    XO_INSTANCE "$INST"
    CEPH_CONF "$CONF"
    XO_CLIENT_NS "$NS_CLIENT"
    XO_GATEWAY_NS "$NS_GW"
    XO_OSD_NSES "${nses[*]}"
    XO_S3_ENDPOINT "http://$GW_IP:$S3_PORT"
    XO_RGW_ENDPOINT "http://$GW_IP:$RGW_PORT"
    XO_S3_HTTPS_ENDPOINT "https://$GW_IP:$S3_HTTPS_PORT"
    XO_RGW_HTTPS_ENDPOINT "https://$GW_IP:$RGW_HTTPS_PORT"
    XO_CA_FILE "$CA_CERT"
    XO_TLS_DIR "$TLS"
    XO_GATEWAY_METRICS "http://$GW_IP:$METRICS_PORT/metrics"
    XO_RESPONDER_METRICS "${metrics[*]}"
    XO_OFFLOAD_THRESHOLD "$threshold"
    XO_TICKET_KEY "$TICKET_KEY"
    XO_OFFLOAD_STALL_TIMEOUT "$stall"
    XO_S3CFG "$RUN/s3cfg"
    XO_S3CFG2 "$RUN/s3cfg2"
    XO_S3CFG_HTTPS "$RUN/s3cfg-https"
    XO_ACCESS_KEY "$ACCESS_KEY1"
    XO_SECRET_KEY "$SECRET_KEY1"
    XO_ACCESS_KEY2 "$ACCESS_KEY2"
    XO_SECRET_KEY2 "$SECRET_KEY2"
    XO_RUN_DIR "$RUN"
    XO_KEYS_DIR "$KEYS"
    XO_GATEWAY_LOG "$GATEWAY_LOG"
    XO_GATEWAY_ACCESS_LOG "$GATEWAY_ACCESS_LOG"
    AWS_SHARED_CREDENTIALS_FILE "$RUN/aws/credentials"
    AWS_CONFIG_FILE "$RUN/aws/config"
    AWS_CA_BUNDLE "$CA_CERT"
  )
  for ((i = 0; i < ${#vars[@]}; i += 2)); do
    printf "export %s='%s'\n" "${vars[i]}" "${vars[i + 1]}"
  done
}

# ---------------------------------------------------------------- main

main() {
  case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    start-responder) shift; cmd_start_responder "$@" ;;
    start-gateway) cmd_start_gateway ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
