#!/usr/bin/env bash
# XO-Ceph integration suite driver.
#
# Starts a private cluster (XO_INSTANCE, default "xoit") with
# vstart-scripts/xo-vstart.sh, runs the pytest suite in the client network
# namespace, stops the cluster and then checks that nothing of the instance
# is left behind: no network namespace, no process that ran in one of them or
# that refers to the instance's run directory, no bpffs (pinned BPF maps).
#
# Offload is on with a low threshold (XO_OFFLOAD_THRESHOLD, default 64 KiB),
# so every test object of 64 KiB and more is served by a responder: the whole
# suite runs against the offload path.
#
# Builds nothing: build/rgw_xo/xo-gateway and build/osd_xo/xo-responder must exist.
# Usage: qa/integration/run.sh [pytest args...]   e.g. -k ranged -x
# Exit code: pytest's; 3 if pytest passed but the clean-up check failed;
# 2 for a set-up problem.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export XO_INSTANCE=${XO_INSTANCE:-xoit}
VSTART=${XO_VSTART:-$REPO/vstart-scripts/xo-vstart.sh}
export XO_GATEWAY_BIN=${XO_GATEWAY_BIN:-$REPO/build/rgw_xo/xo-gateway}
export XO_RESPONDER_BIN=${XO_RESPONDER_BIN:-$REPO/build/osd_xo/xo-responder}
export XO_OFFLOAD_THRESHOLD=${XO_OFFLOAD_THRESHOLD:-65536}
# Short, so that a test can outlast it with a slow client in seconds, not minutes.
export XO_OFFLOAD_STALL_TIMEOUT=${XO_OFFLOAD_STALL_TIMEOUT:-4}
PY=/usr/bin/python3          # Debian's python: the one with boto3 and pytest
PYTEST_TIMEOUT=${XO_IT_TIMEOUT:-2400}

say() { echo "run.sh: $*" >&2; }
die() { say "$*"; exit 2; }

((EUID == 0)) || die "needs root (network namespaces)"
[[ -x $XO_GATEWAY_BIN ]] || die "xo-gateway binary missing: $XO_GATEWAY_BIN
  build it first: cmake -S $REPO -B $REPO/build && cmake --build $REPO/build -j2"
[[ -x $VSTART ]] || die "cluster script missing: $VSTART"
[[ ${XO_OFFLOAD:-1} == 0 || -x $XO_RESPONDER_BIN ]] || die "xo-responder binary missing: $XO_RESPONDER_BIN"
for tool in s3cmd ip; do command -v $tool >/dev/null || die "$tool not installed (scripts/install-deps.sh)"; done
$PY -c 'import boto3, pytest' 2>/dev/null || die "$PY cannot import boto3/pytest (scripts/install-deps.sh)"

# Coordinates of some other instance left in the environment by an earlier
# 'eval "$(xo-vstart.sh env)"' must not leak into ours.
unset CEPH_CONF XO_CLIENT_NS XO_GATEWAY_NS XO_OSD_NSES XO_S3_ENDPOINT XO_RGW_ENDPOINT \
  XO_S3CFG XO_S3CFG2 XO_ACCESS_KEY XO_SECRET_KEY XO_ACCESS_KEY2 XO_SECRET_KEY2 \
  XO_GATEWAY_LOG XO_GATEWAY_ACCESS_LOG AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE \
  XO_GATEWAY_METRICS XO_RESPONDER_METRICS \
  XO_S3_HTTPS_ENDPOINT XO_RGW_HTTPS_ENDPOINT XO_CA_FILE XO_TLS_DIR XO_S3CFG_HTTPS AWS_CA_BUNDLE
if [[ -n ${XO_IT_RUN_DIR:-} ]]; then export XO_RUN_DIR=$XO_IT_RUN_DIR; else unset XO_RUN_DIR; fi

cluster_up=0
NSES=()                 # namespaces of the instance
declare -A PROCS=()     # pid -> start time (field 22 of /proc/pid/stat)

instance_nses() {
  # The namespaces xo-vstart.sh told us about, plus any whose name carries
  # the instance name as a separate word.
  local n osd=${XO_OSD_NSES:-}
  for n in ${XO_CLIENT_NS:-} ${XO_GATEWAY_NS:-} ${osd//,/ } ${XO_EXTRA_NSES:-}; do
    echo "$n"
  done
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "(^|[-_.])${XO_INSTANCE}([-_.]|$)"
}

start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# Processes alive and not zombies, recorded with their start time so a reused pid is not blamed.
snapshot_processes() {
  local ns pid
  mapfile -t NSES < <(instance_nses | sort -u)
  for ns in "${NSES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      PROCS[$pid]=$(start_time "$pid")
    done
  done
  for pid in $(instance_pids_by_cmdline); do PROCS[$pid]=$(start_time "$pid"); done
}

# ceph daemons, radosgw and xo-gateway whose command line names the instance's files.
instance_pids_by_cmdline() {
  local d pid cmd
  local keys=()
  [[ -n ${XO_RUN_DIR:-} ]] && keys+=("${XO_RUN_DIR%/}/")   # the slash: /tmp/xo-a is not /tmp/xo-ab
  [[ -n ${CEPH_CONF:-} ]] && keys+=("$CEPH_CONF")
  ((${#keys[@]})) || return 0
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    cmd=$( (tr '\0' ' ' <"$d/cmdline") 2>/dev/null) || continue   # may exit meanwhile
    case $cmd in *ceph-*|*radosgw*|*xo-gateway*|*xo-responder*) ;; *) continue ;; esac
    for k in "${keys[@]}"; do
      [[ $cmd == *"$k"* ]] && { echo "$pid"; break; }
    done
  done
}

alive() {  # pid starttime: running (not a zombie) and the same process
  local st
  st=$(start_time "$1") || return 1
  [[ -n $st && $st == "$2" ]] || return 1
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

stop_cluster() {
  ((cluster_up)) || return 0
  cluster_up=0
  say "stopping cluster $XO_INSTANCE"
  "$VSTART" stop || say "xo-vstart.sh stop failed"
}

check_leftovers() {
  local bad=0 pid ns i left
  for ((i = 0; i < 30; i++)); do      # killed daemons may take a few seconds
    left=()
    for pid in "${!PROCS[@]}"; do alive "$pid" "${PROCS[$pid]}" && left+=("$pid"); done
    ((${#left[@]} == 0)) && break
    sleep 0.5
  done
  for pid in "${left[@]}"; do
    say "LEFT BEHIND: process $pid: $( (tr '\0' ' ' </proc/$pid/cmdline) 2>/dev/null)"
    bad=1
  done
  for pid in $(instance_pids_by_cmdline); do
    [[ -n ${PROCS[$pid]:-} ]] && continue
    say "LEFT BEHIND: process $pid: $( (tr '\0' ' ' </proc/$pid/cmdline) 2>/dev/null)"
    bad=1
  done
  for ns in "${NSES[@]}" $(instance_nses); do
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
      say "LEFT BEHIND: network namespace $ns"
      bad=1
    fi
  done
  # The daemons' pins live in a bpffs that xo-vstart.sh mounts in the run directory.
  for ns in $(findmnt -rn -t bpf -o TARGET); do
    [[ -n ${XO_RUN_DIR:-} && $ns == "${XO_RUN_DIR%/}"/* ]] || continue
    say "LEFT BEHIND: bpffs with pinned BPF objects at $ns"
    bad=1
  done
  ((bad == 0)) && say "clean-up check passed: ${#NSES[@]} namespaces and ${#PROCS[@]} processes gone"
  return $bad
}

pytest_pid=
on_exit() {
  local rc=$?
  if [[ -n $pytest_pid ]] && kill -0 "$pytest_pid" 2>/dev/null; then
    say "interrupted: stopping pytest"
    kill -TERM "$pytest_pid" 2>/dev/null
    wait "$pytest_pid" 2>/dev/null
  fi
  if ((cluster_up)); then
    stop_cluster
    check_leftovers || say "FAILED: the cluster left things behind"
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

cd "$REPO"
# A stale cluster of this instance (an earlier run that was killed) goes first.
"$VSTART" stop >/dev/null 2>&1 || true

say "starting cluster $XO_INSTANCE"
cluster_up=1
"$VSTART" start || die "xo-vstart.sh start failed"
env_out=$("$VSTART" env) || die "xo-vstart.sh env failed"
eval "$env_out"
[[ -n ${XO_CLIENT_NS:-} ]] || die "xo-vstart.sh env printed no XO_CLIENT_NS:
$env_out"
snapshot_processes
say "namespaces: ${NSES[*]}"

set +e
# In the background and waited for, so that a signal to this script is acted
# on at once (the EXIT trap stops pytest and the cluster).
PYTHONDONTWRITEBYTECODE=1 timeout --signal=TERM --kill-after=30 "$PYTEST_TIMEOUT" \
  ip netns exec "$XO_CLIENT_NS" $PY -m pytest -v -rfE --durations=10 -p no:cacheprovider qa/integration "$@" &
pytest_pid=$!
wait "$pytest_pid"
rc=$?
pytest_pid=
((rc == 124)) && say "pytest timed out after ${PYTEST_TIMEOUT}s"

snapshot_processes   # anything the tests started (extra gateways) is expected to be gone too
stop_cluster
if ! check_leftovers; then
  say "FAILED: the cluster left things behind"
  ((rc == 0)) && rc=3
fi
say "pytest exit code $rc"
exit $rc
