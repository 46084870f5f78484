#!/bin/sh
# Theory of operation: /init of the kernel matrix's initramfs (built by
# qa/vm/kernel-matrix.sh), run by busybox sh as PID 1 in the QEMU guest. It
# mounts what the probes use (proc, sys, devtmpfs, tmpfs /tmp and /run, bpffs),
# brings loopback up, loads the kernel modules listed in /xo/modules.list
# (in load order, dependencies first, as kernel-matrix.sh wrote it), runs
# qa/vm/probes.sh between two markers on the serial console and powers the
# machine off, which ends QEMU. "xo.quick" on the kernel command line selects
# the reduced probe set; "xo.bench" runs qa/bench/hybrid-handoff.sh instead.
# The probes get --emulated: this guest always runs under QEMU's TCG.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t tmpfs shm /dev/shm
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
hostname xo-matrix

for module in $(cat /xo/modules.list); do
  insmod "$module" || echo "guest: insmod $module failed"
done

quick=""
grep -q 'xo.quick' /proc/cmdline && quick=--quick
echo "guest: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s"
echo "XO-MATRIX-BEGIN"
if grep -q 'xo.bench' /proc/cmdline; then
  /usr/bin/bash /xo/qa/bench/hybrid-handoff.sh 2>&1
else
  /usr/bin/bash /xo/qa/vm/probes.sh --bin /xo/build $quick --emulated 2>&1
fi
echo "XO-MATRIX-END status=$?"
echo "guest: done after $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
