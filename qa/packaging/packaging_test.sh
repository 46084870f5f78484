#!/usr/bin/env bash
# Checks the Debian packages (cmake/Packaging.cmake) without a cluster or a
# running systemd: builds them with cpack from a build tree where xo-gateway
# and xo-responder are built, then
#   - control: names, Depends (dpkg-shlibdeps found the libraries the
#     daemons link), maintainer scripts, the responder's conffile;
#   - contents: exactly the expected files, owned by root, with their modes;
#     the binaries are stripped and run (--help) from the package;
#   - units: the settings the security model needs (user, exact capability
#     sets, no-new-privileges, restart, the bpffs bind) and nothing that
#     blocks netlink; `systemd-analyze verify` prints nothing;
#   - the units' bpffs bind, rebuilt with unshare + setpriv on this kernel:
#     xo with the unit's capabilities pins a map through it, not without it;
#   - install with dpkg into a scratch root (maintainer scripts run with
#     DPKG_ROOT): the user xo appears there; systemd-tmpfiles makes the pin
#     directory for xo; purge leaves only the user (kept, as Debian does).
# Prints PASS: / FAIL: lines; exit status 1 if any check failed.
# Usage: qa/packaging/packaging_test.sh <build dir>
set -uo pipefail
build=$(cd "${1:?usage: packaging_test.sh <build dir>}" && pwd)
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# dpkg-deb keeps the packages' root ownership and dpkg installs only as root.
if ((EUID != 0)); then echo "SKIPPED: needs root (dpkg -x ownership, dpkg --root install)"; exit 0; fi
for bin in rgw_xo/xo-gateway osd_xo/xo-responder; do
  [[ -x $build/$bin ]] || { echo "FAIL: $build/$bin not built (cmake --build <dir> --target xo-gateway xo-responder)"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! cpack --config "$build/CPackConfig.cmake" -B "$work/out" > "$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1
fi
gw=$(echo "$work"/out/xo-ceph-gateway_*.deb)
rs=$(echo "$work"/out/xo-ceph-responder_*.deb)
check "cpack built both packages" test -f "$gw" -a -f "$rs"

# --- control ---------------------------------------------------------------
depends_has() { # <deb> <package>...
  local deb=$1 dep; shift
  local depends; depends=$(dpkg-deb -f "$deb" Depends)
  for dep; do
    grep -Eq "(^|, )$dep( |,|$)" <<<"$depends" || { echo "  Depends of $(basename "$deb") lacks $dep: $depends"; return 1; }
  done
}
check "gateway package name" test "$(dpkg-deb -f "$gw" Package)" = xo-ceph-gateway
check "responder package name" test "$(dpkg-deb -f "$rs" Package)" = xo-ceph-responder
check "gateway Depends" depends_has "$gw" librados2 libbpf1 libnl-3-200 libnl-route-3-200 libssl3 \
  libboost-program-options1.74.0 "systemd \| adduser"
check "responder Depends" depends_has "$rs" librados2 libbpf1 libssl3 libboost-program-options1.74.0 "systemd \| adduser"
for deb in "$gw" "$rs"; do
  name=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -e "$deb" "$work/control-$name"
  for s in postinst prerm postrm; do
    check "$name $s is an executable sh script" test -x "$work/control-$name/$s"
    check "$name $s parses" sh -n "$work/control-$name/$s"
  done
done
check "responder conffile" test "$(cat "$work/control-xo-ceph-responder/conffiles")" = /etc/default/xo-responder
check "gateway has no conffile" test ! -e "$work/control-xo-ceph-gateway/conffiles"

# --- contents: "<mode> <owner> <path>" of every file, directories left out ---
files_of() { dpkg-deb --contents "$1" | awk '$1 !~ /^d/ {print $1, $2, $6}' | sort; }
expect_gw="-rw-r--r-- root/root ./usr/lib/systemd/system/xo-gateway@.service
-rw-r--r-- root/root ./usr/lib/sysusers.d/xo-ceph-gateway.conf
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/xo-ceph-gateway.conf
-rwxr-xr-x root/root ./usr/bin/xo-gateway"
expect_rs="-rw-r--r-- root/root ./etc/default/xo-responder
-rw-r--r-- root/root ./usr/lib/systemd/system/xo-responder.service
-rw-r--r-- root/root ./usr/lib/sysusers.d/xo-ceph-responder.conf
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/xo-ceph-responder.conf
-rwxr-xr-x root/root ./usr/bin/xo-responder"
same_lines() { diff <(sort <<<"$1") <(sort <<<"$2") >&2; }
check "gateway files, owners and modes" same_lines "$(files_of "$gw")" "$expect_gw"
check "responder files, owners and modes" same_lines "$(files_of "$rs")" "$expect_rs"

x=$work/extracted
dpkg-deb -x "$gw" "$x" && dpkg-deb -x "$rs" "$x"
for d in gateway responder; do
  check "xo-$d is stripped" sh -c "! readelf -S '$x/usr/bin/xo-$d' | grep -q debug_info"
  check "xo-$d from the package runs (--help)" sh -c "'$x/usr/bin/xo-$d' --help > /dev/null"
done

# --- units -------------------------------------------------------------------
unit_has() { # <unit file> <line>...: each line present exactly
  local f=$1 l; shift
  for l; do grep -qxF -- "$l" "$f" || { echo "  $(basename "$f") lacks: $l"; return 1; }; done
}
unit_lacks() { # <unit file> <key>...
  local f=$1 k; shift
  for k; do ! grep -q "^$k=" "$f" || { echo "  $(basename "$f") sets $k"; return 1; }; done
}
ug=$x/usr/lib/systemd/system/xo-gateway@.service
ur=$x/usr/lib/systemd/system/xo-responder.service
common_lines=(User=xo Group=xo NoNewPrivileges=yes Restart=on-failure
  BindPaths=/sys/fs/bpf/xo-ceph:/sys/fs/bpf RequiresMountsFor=/sys/fs/bpf/xo-ceph
  ProtectSystem=strict PrivateTmp=yes WantedBy=multi-user.target)
check "gateway unit settings" unit_has "$ug" "${common_lines[@]}" \
  "ExecStartPre=+/usr/bin/systemd-tmpfiles --create xo-ceph-gateway.conf" \
  "ExecStart=/usr/bin/xo-gateway --name client.rgw.%i --ceph-id xo-gateway" \
  "CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF CAP_NET_BIND_SERVICE" \
  "AmbientCapabilities=CAP_NET_ADMIN CAP_BPF CAP_NET_BIND_SERVICE"
check "responder unit settings" unit_has "$ur" "${common_lines[@]}" \
  "ExecStartPre=+/usr/bin/systemd-tmpfiles --create xo-ceph-responder.conf" \
  "EnvironmentFile=/etc/default/xo-responder" 'ExecStart=/usr/bin/xo-responder $XO_RESPONDER_ARGS' \
  "CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF" "AmbientCapabilities=CAP_NET_ADMIN CAP_BPF"
for u in "$ug" "$ur"; do
  # netlink (TC, neighbours) and the bpf/mount view the daemons need
  check "$(basename "$u") keeps netlink and /sys writable" unit_lacks "$u" \
    PrivateNetwork RestrictAddressFamilies ProtectKernelTunables PrivateUsers SystemCallFilter
done

# verify resolves units inside --root: the packaged units and binaries next to
# this host's own units (sysinit.target and the rest of the boot graph).
cp -an /usr/lib/systemd/system/. "$x/usr/lib/systemd/system/"
cp /usr/bin/systemd-tmpfiles "$x/usr/bin/"  # ExecStartPre's, a dependency of the packages (systemd)
verify_out=$(systemd-analyze verify --root="$x" xo-gateway@gw.service xo-responder.service 2>&1)
verify_rc=$?
[[ -n $verify_out ]] && echo "$verify_out" | sed 's/^/  verify: /'
check "systemd-analyze verify exits 0" test "$verify_rc" -eq 0
check "systemd-analyze verify prints nothing" test -z "$verify_out"

# --- the units' bpffs view, on this kernel ----------------------------------------
# What BindPaths= gives the daemon, rebuilt with unshare and setpriv from the
# responder unit's own capabilities: a directory of the host's bpffs owned by
# xo, bound on /sys/fs/bpf in a private mount namespace, is a bpffs where xo
# pins a map with no capability beyond the unit's; without the bind xo cannot
# even reach it (the host's bpffs root is root's, mode 0700). Needs the host
# user xo (scripts/install-deps.sh) and bpftool; the directory is removed on exit.
caps=$(sed -n 's/^AmbientCapabilities=//p' "$ur" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
as_xo=(setpriv --reuid=xo --regid=xo --clear-groups --inh-caps=-all,$caps --ambient-caps=-all,$caps
       --bounding-set=-all,$caps --no-new-privs)
if [[ $(stat -f -c %T /sys/fs/bpf 2>/dev/null) != bpf_fs ]] || ! getent passwd xo > /dev/null; then
  fail "bpffs view: needs a bpffs on /sys/fs/bpf and the user xo (scripts/install-deps.sh)"
else
  pins=/sys/fs/bpf/xo-ceph-packaging-test-$$  # bpffs names take no dot
  trap 'rm -f "$pins"/xo/t/m; rmdir "$pins"/xo/t "$pins"/xo "$pins" 2>/dev/null; rm -rf "$work"' EXIT
  check "a pin directory for xo on the host's bpffs" sh -c "mkdir -m 0700 '$pins' && chown xo:xo '$pins'"
  check "without the bind, xo cannot reach it" sh -c "${as_xo[*]} ls '$pins' 2>&1 | grep -q 'Permission denied'"
  check "with it, xo ($caps) pins a map under /sys/fs/bpf/xo" unshare -m sh -c "
    mount --make-rprivate / && mount --bind '$pins' /sys/fs/bpf &&
    ${as_xo[*]} sh -c 'test \$(stat -f -c %T /sys/fs/bpf) = bpf_fs && mkdir -p /sys/fs/bpf/xo/t &&
      bpftool map create /sys/fs/bpf/xo/t/m type hash key 4 value 4 entries 1 name xo_pkg_test'"
  check "the pin is on the host's bpffs, owned by xo" test "$(stat -c %U "$pins/xo/t/m" 2>/dev/null)" = xo
fi

# --- install into a scratch root, then purge ----------------------------------
root=$work/root
mkdir -p "$root"/etc "$root"/var/lib/dpkg/{info,updates,triggers}
touch "$root"/var/lib/dpkg/status
dpkg_root() { dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null "$@" > "$work/dpkg.log" 2>&1 ||
  { sed 's/^/  dpkg: /' "$work/dpkg.log"; return 1; }; }
check "dpkg installs both into a scratch root" dpkg_root -i "$gw" "$rs"
check "both installed (dpkg -l)" sh -c "test \$(dpkg --root='$root' -l 'xo-ceph-*' | grep -c '^ii') -eq 2"
check "postinst made the system user xo" sh -c "grep -Eq '^xo:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin\$' '$root/etc/passwd'"
check "and its group" grep -q '^xo:x:' "$root/etc/group"
check "systemd-tmpfiles makes the pin dir for xo" sh -c \
  "systemd-tmpfiles --root='$root' --create xo-ceph-gateway.conf && test \"\$(stat -c '%a %U' '$root/sys/fs/bpf/xo-ceph')\" = '700 xo'"
rm -rf "$root/sys"  # runtime state (bpffs), not a package file
check "dpkg purges both" dpkg_root --purge xo-ceph-gateway xo-ceph-responder
left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o \( -type f -o -type l \) -print | sort | tr '\n' ' ')
check "purge leaves only the user database (left: $left)" \
  test "$left" = "./etc/.pwd.lock ./etc/group ./etc/gshadow ./etc/passwd ./etc/shadow "

if ((failures)); then echo "packaging: $failures check(s) FAILED"; exit 1; fi
echo "packaging: all checks passed"
