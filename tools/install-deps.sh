#!/usr/bin/env bash
# Installs every Debian 12 package tidewatch needs to build, test and run.
# Usage: tools/install-deps.sh [--test]   (--test adds the real peers the tests use)
set -euo pipefail
build_packages=(
  g++ cmake ninja-build pkg-config ccache
  libcaf-dev libboost-test-dev libboost-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  librdkafka-dev libmaxminddb-dev libpcap-dev libssl-dev
)
# Real exporters, reference decoders and tools the integration tests drive.
test_packages=(
  clang-14 libclang-rt-14-dev clang-format softflowd pmacct tshark python3-scapy kcat mmdb-bin libmaxmind-db-writer-perl procps iproute2
  bird2 gobgpd
)
packages=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${test_packages[@]}")
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
