#!/usr/bin/env bash
# Installs every system package XO-Ceph needs to build, test, benchmark and run
# its demo, and creates the system user `xo` the XO daemons run as
# (docs/architecture.md, "Privileges"). Idempotent: when everything is already
# there it only checks.
set -euo pipefail

# The daemons' user: a system account and group of its own, no home, no login.
if ! getent passwd xo >/dev/null; then
  if ((EUID != 0)); then
    echo "install-deps: need root to create the system user xo" >&2
    exit 1
  fi
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin xo
  echo "install-deps: created system user xo"
fi

PACKAGES=(
  # build
  cmake g++ make pkg-config
  libboost-dev libboost-program-options-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # data plane
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libnl-3-dev libnl-route-3-dev
  # Ceph 16.2 (Debian 12)
  ceph-mon ceph-osd ceph-mgr radosgw ceph-common librados-dev libradospp-dev python3-rados
  # test and demo tools
  iproute2 util-linux procps psmisc ethtool tcpdump curl
  s3cmd python3-boto3 python3-pytest
  # HTTPS tests: gnutls-cli is a second TLS client stack beside OpenSSL's; awscli a third S3 client
  gnutls-bin awscli
  # load tool of the HTTP(S) GET benchmarks (qa/bench/https.sh): keep-alive, HTTPS via OpenSSL
  wrk
  # kernel matrix (qa/vm/kernel-matrix.sh): QEMU (TCG) and a static busybox for
  # its initramfs; the guest kernel's .deb is fetched with apt-get download
  # into the build tree, never installed
  qemu-system-x86 busybox-static
  # packages (cmake/Packaging.cmake, qa/packaging/): dpkg-shlibdeps fills in
  # Depends; systemd-analyze verifies the units, systemd-sysusers makes the user
  dpkg-dev systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if ((EUID != 0)); then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
