#!/usr/bin/env bash
# Theory of operation: the kernel matrix. The development kernel lacks kTLS,
# cls_flower, act_pedit and act_csum (and loadable modules), so the same
# probes (qa/vm/probes.sh: bpf, handoff, flower, ktls) also run on Debian's
# own kernel, booted in QEMU with software emulation (TCG):
#
#   1. scripts/install-deps.sh brings QEMU and a static busybox; the kernel is
#      Debian's linux-image-amd64 (its current linux-image-<release>
#      dependency), fetched with `apt-get download` and unpacked with
#      dpkg-deb into <build>/kernel-matrix/<package>/ — never installed, so
#      this machine's boot is untouched; busybox depmod writes its modules.dep.
#   2. An initramfs (uncompressed cpio, rebuilt each run): busybox, the host's
#      bash/iproute2/tcpdump/bpftool/openssl/... and the project's test
#      binaries (debug info stripped) with every shared library ldd names, the
#      kernel modules the probes need with their dependencies (modules.dep),
#      the probe scripts, and qa/vm/guest-init.sh as /init.
#   3. qemu-system-x86_64 -accel tcg boots it with the serial console on
#      stdout (streamed here and kept in <build>/kernel-matrix/console.log);
#      the guest runs the probes and powers off.
#
# --host runs the same probes on the running kernel instead (needs root).
# --quick runs the reduced set (probes.sh). The last line printed is the
# probes' machine-readable one, `kernel=<release> bpf=… handoff=… flower=…
# ktls=…`; a guest that never reported (boot failure, timeout) gives FAIL for
# every feature. Where QEMU or the Debian archive is missing, every feature is
# SKIPPED with the reason. Exit status: 1 if any feature is FAIL.
# --bench-handoff runs qa/bench/hybrid-handoff.sh in the guest instead of the
# probes (handoff latency, hybrid steering on vs eBPF only; its own output).
# Usage: kernel-matrix.sh [--host] [--quick | --bench-handoff] [--build DIR] [--timeout SECONDS]
set -uo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BUILD=$REPO/build
HOST=0
QUICK=0
BENCH=0
TIMEOUT=""
while (($#)); do
  case $1 in
    --host) HOST=1; shift ;;
    --quick) QUICK=1; shift ;;
    --bench-handoff) BENCH=1; shift ;;
    --build) BUILD=$(readlink -f "$2"); shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    *) echo "usage: $0 [--host] [--quick | --bench-handoff] [--build DIR] [--timeout SECONDS]" >&2; exit 2 ;;
  esac
done
# Measured full runs took far less (docs/testing.md); the limits only bound a hang.
TIMEOUT=${TIMEOUT:-$((QUICK ? 600 : BENCH ? 1200 : 2400))}
quick_arg=()
((QUICK)) && quick_arg=(--quick)
FEATURES=(bpf handoff flower ktls)

die() { echo "kernel-matrix: $*" >&2; exit 1; }
# skip WHY: this machine cannot boot the second kernel (no QEMU, no Debian
# archive): every feature is SKIPPED, with the reason, and the exit status is 0.
skip() {
  local line="kernel=${RELEASE:-unknown}" f
  echo "SKIPPED kernel-matrix: $*"
  for f in "${FEATURES[@]}"; do line+=" $f=SKIPPED"; done
  echo "$line"
  exit 0
}
((EUID == 0)) || die "needs root (namespaces, BPF, TCP_REPAIR; apt-get for the kernel)"
"$REPO/scripts/install-deps.sh" > /dev/null || die "scripts/install-deps.sh failed"

# The probes' binaries (a no-op when they are up to date).
TARGETS=(xo_bpf_tests xo_flower_kernel_tests xo-testbed-gateway xo-testbed-responder xo-testbed-client xo_ktls_tests)
cmake --build "$BUILD" --target "${TARGETS[@]}" > "$BUILD/kernel-matrix-build.log" 2>&1 ||
  die "building ${TARGETS[*]} failed (see $BUILD/kernel-matrix-build.log)"

if ((HOST)); then
  exec "$REPO/qa/vm/probes.sh" --bin "$BUILD" "${quick_arg[@]}"
fi

CACHE=$BUILD/kernel-matrix
mkdir -p "$CACHE"

# 1. The kernel: Debian's current linux-image-amd64 target, unpacked once.
pkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 is not installed"
[[ -n $pkg ]] || skip "apt-cache knows no linux-image-amd64 (no Debian archive configured, or apt-get update needed)"
KROOT=$CACHE/$pkg
RELEASE=${pkg#linux-image-}
if [[ ! -e $KROOT/.unpacked ]]; then
  echo "kernel-matrix: fetching $pkg with apt-get download"
  rm -rf "$KROOT" && mkdir -p "$KROOT/deb" || die "cannot create $KROOT"
  out=$(cd "$KROOT/deb" && apt-get download -q "$pkg" 2>&1) || skip "apt-get download $pkg failed: $(tail -n 1 <<< "$out")"
  dpkg-deb -x "$KROOT"/deb/*.deb "$KROOT/root" || die "dpkg-deb -x failed"
  busybox depmod -b "$KROOT/root" "$RELEASE" || die "depmod failed"
  rm -rf "$KROOT/deb"
  touch "$KROOT/.unpacked"
fi
KERNEL=$KROOT/root/boot/vmlinuz-$RELEASE
MODDIR=$KROOT/root/lib/modules/$RELEASE
[[ -r $KERNEL && -r $MODDIR/modules.dep ]] || die "no kernel or modules.dep in $KROOT"

# 2. The initramfs.
STAGE=$CACHE/initramfs
INITRD=$CACHE/initramfs.cpio
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,usr/lib64,usr/lib/x86_64-linux-gnu,etc,proc,sys,dev,tmp,run,root,xo} ||
  die "cannot create $STAGE"
ln -s usr/lib "$STAGE/lib" && ln -s usr/lib64 "$STAGE/lib64"

cp /bin/busybox "$STAGE/bin/busybox" || die "busybox (busybox-static) is missing"
for applet in $(busybox --list); do
  [[ -e $STAGE/bin/$applet ]] || ln -s busybox "$STAGE/bin/$applet"
done
ln -s ../bin/busybox "$STAGE/sbin/modprobe" # the kernel's request_module() helper
# system() and scripts run /bin/sh: make it bash, since busybox sh runs its own
# applets (ip, tc, ... without netns or flower) ahead of PATH.
ln -sf ../usr/bin/bash "$STAGE/bin/sh"

# copy_elf SRC DEST: a binary (debug info stripped) and the libraries it needs.
copy_elf() {
  local src=$1 dest=$2 lib
  strip --strip-debug -o "$STAGE$dest" "$src" || return 1
  for lib in $(ldd "$src" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    [[ -e $STAGE$lib ]] || cp -L "$lib" "$STAGE$lib" || return 1
  done
}
for tool in bash ip tc ss nsenter unshare tcpdump bpftool openssl ethtool grep sed awk date mktemp seq cut \
  tail head wc sleep timeout sort uniq tr env cat cp mkdir rm rmdir kill readlink dirname basename; do
  path=$(type -P "$tool") || die "$tool is not installed"
  path=$(readlink -f "$path")
  mkdir -p "$STAGE$(dirname "$path")"
  copy_elf "$path" "$path" || die "cannot copy $path"
  # The probes call the tool by its usual name; keep it ahead of busybox in PATH.
  for dir in /usr/bin /usr/sbin; do
    [[ -e $dir/$tool && ! -e $STAGE$dir/$tool ]] && ln -s "$path" "$STAGE$dir/$tool"
  done
done

mkdir -p "$STAGE"/xo/qa/{vm,handoff,bench} "$STAGE"/xo/build/qa/{bpf,handoff,unit}
cp "$REPO"/qa/vm/probes.sh "$STAGE/xo/qa/vm/" && cp "$REPO"/qa/handoff/{testbed.sh,bed.sh} "$STAGE/xo/qa/handoff/" &&
  cp "$REPO"/qa/bench/{handoff.sh,hybrid-handoff.sh} "$STAGE/xo/qa/bench/" ||
  die "cannot copy the probe scripts"
for binary in qa/bpf/xo_bpf_tests qa/bpf/xo_flower_kernel_tests qa/handoff/xo-testbed-gateway qa/handoff/xo-testbed-responder \
  qa/handoff/xo-testbed-client qa/unit/xo_ktls_tests; do
  copy_elf "$BUILD/$binary" "/xo/build/$binary" || die "cannot copy $BUILD/$binary"
done
cp "$BUILD/qa/handoff/xdp_pass.bpf.o" "$STAGE/xo/build/qa/handoff/" || die "no xdp_pass.bpf.o"

# Kernel modules: the probes' list and, first, everything each needs
# (modules.dep, depth first), written in load order for the guest's insmod.
# The crypto algorithms come first: libcrc32c (act_csum) and tls find them
# through the crypto API, which modules.dep does not show, and the guest has
# no working request_module().
MODULES=(crc32c_generic ctr ghash-generic gcm veth bridge sch_ingress cls_bpf cls_u32 cls_flower act_gact
  act_mirred act_pedit act_csum tls)
declare -A LOADED=()
ORDER=()
load_order() { # load_order PATH: its dependencies, then PATH itself
  local path=$1 dep
  [[ -n ${LOADED[$path]:-} ]] && return
  LOADED[$path]=1
  for dep in $(grep -E "^$path:" "$MODDIR/modules.dep" | cut -d: -f2); do load_order "$dep"; done
  ORDER+=("$path")
}
for module in "${MODULES[@]}"; do
  pattern="/${module//-/[-_]}\.ko"
  if path=$(grep -oE "^[^:]*$pattern:" "$MODDIR/modules.dep" | tr -d :); then
    load_order "$path"
  else
    grep -qE "$pattern\$" "$MODDIR/modules.builtin" || die "module $module is not in $pkg"
  fi
done
for file in "${ORDER[@]}"; do
  mkdir -p "$STAGE/lib/modules/$RELEASE/$(dirname "$file")"
  cp "$MODDIR/$file" "$STAGE/lib/modules/$RELEASE/$file" || die "cannot copy $file"
done
printf "/lib/modules/$RELEASE/%s\n" "${ORDER[@]}" > "$STAGE/xo/modules.list"

printf 'root:x:0:0:root:/root:/usr/bin/bash\ntcpdump:x:100:101::/nonexistent:/usr/sbin/nologin\n' > "$STAGE/etc/passwd"
printf 'root:x:0:\ntcpdump:x:101:\n' > "$STAGE/etc/group"
cp /etc/protocols /etc/services "$STAGE/etc/" 2> /dev/null
cp "$REPO/qa/vm/guest-init.sh" "$STAGE/init" && chmod 755 "$STAGE/init"
(cd "$STAGE" && find . | busybox cpio -o -H newc > "$INITRD" 2> /dev/null) || die "cpio failed"
echo "kernel-matrix: $pkg, initramfs $(($(stat -c %s "$INITRD") / 1048576)) MiB"

# 3. Boot. Memory: the 64 MiB transfers of the test bed and the unpacked initramfs.
LOG=$CACHE/console.log
append="console=ttyS0 panic=-1 quiet loglevel=4"
((QUICK)) && append+=" xo.quick"
((BENCH)) && append+=" xo.bench"
host_load() { echo "host load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared machine)"; }
echo "kernel-matrix: $(host_load)"
start=$SECONDS
timeout "$TIMEOUT" nice -n 10 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot -net none \
  -kernel "$KERNEL" -initrd "$INITRD" \
  -append "$append" < /dev/null 2>&1 |
  stdbuf -oL tr -d '\r' | tee "$LOG" # line-buffered: the console streams live
qemu_status=${PIPESTATUS[0]}
echo "kernel-matrix: QEMU ran $((SECONDS - start)) s (exit status $qemu_status); $(host_load)"

if ((BENCH)); then
  grep -q '^XO-MATRIX-END status=0' "$LOG"
  exit
fi
line=$(sed -n '/^XO-MATRIX-BEGIN/,/^XO-MATRIX-END/p' "$LOG" | grep '^kernel=' | tail -n 1)
if [[ -z $line ]]; then
  echo "FAIL all: the guest did not report (QEMU status $qemu_status; console in $LOG)"
  line="kernel=$RELEASE"
  for f in "${FEATURES[@]}"; do line+=" $f=FAIL"; done
fi
echo "$line"
[[ $line != *=FAIL* ]]
