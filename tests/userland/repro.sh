#!/usr/bin/env bash
# Checks that the userland builds reproducibly: builds it twice for a
# platform, with two fresh output bases and no disk cache, and compares
# every installed file. Too slow for CI (two cold builds of musl, busybox,
# dropbear, dnsmasq, ppp, rp-pppoe and wide-dhcpv6); run it by hand:
#
#   tests/userland/repro.sh [PLATFORM]     # default mips_24kc
#
# Exits 1 and prints the differing files when the builds differ.
set -euo pipefail
platform=${1:-mips_24kc}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-repro.XXXXXX")
targets=(//userland/musl //userland/busybox //userland/dropbear //userland/dnsmasq //userland/ppp //userland/rp-pppoe //userland/wide-dhcpv6)

build() {
  local base=$tmp/base$1
  (cd "$root" && ./bazelw --output_base="$base" build --disk_cache= --platforms="//toolchains:$platform" "${targets[@]}" >&2)
  local bin
  bin=$(cd "$root" && ./bazelw --output_base="$base" info --platforms="//toolchains:$platform" bazel-bin 2>/dev/null)
  (cd "$bin/userland" && find . -path '*/staging/*' \( -type f -o -type l \) | LC_ALL=C sort | while read -r f; do
    if [ -L "$f" ]; then echo "link $(readlink "$f") $f"; else echo "$(sha256sum <"$f" | cut -c1-64) $f"; fi
  done) >"$tmp/files$1"
  (cd "$root" && ./bazelw --output_base="$base" shutdown)
}

build 1
build 2
if diff -u "$tmp/files1" "$tmp/files2"; then
  echo "reproducible: $(wc -l <"$tmp/files1") files identical for $platform"
  chmod -R u+w "$tmp" && rm -rf "$tmp"
else
  echo "NOT reproducible for $platform: see $tmp" >&2
  exit 1
fi
