#!/usr/bin/env bash
# Checks that the device images build reproducibly: builds them twice, with
# two fresh output bases and no disk cache, and compares the sha256 of the
# kernels, root filesystems and images. Too slow for CI (two cold builds of
# the toolchain, userland and both kernels: about 1.5 h on 2 cores); run it
# by hand before claiming reproducibility:
#
#   tests/reproducible.sh
#
# Exits 1 and prints the differing files when the builds differ.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-repro.XXXXXX")
targets=(//devices/qemu:image //devices/gl-ar750:image //devices/gl-ar750:tftpboot)
outputs=(
  devices/qemu/kernel/vmlinux
  devices/qemu/rootfs.squashfs
  devices/gl-ar750/kernel/vmlinux.bin
  devices/gl-ar750/uimage.bin
  devices/gl-ar750/rootfs.squashfs
  devices/gl-ar750/image/firmware.bin
  devices/gl-ar750/image/flash.scr
  devices/gl-ar750/tftpboot
)

build() {
  local base=$tmp/base$1 start
  start=$(date +%s)
  (cd "$root" && ./bazelw --output_base="$base" build --disk_cache= "${targets[@]}" >&2)
  echo "build $1: $(($(date +%s) - start)) s from nothing (no disk cache, new output base)"
  local bin
  bin=$(cd "$root" && ./bazelw --output_base="$base" info bazel-bin 2>/dev/null)
  (cd "$bin" && find "${outputs[@]}" -type f | LC_ALL=C sort | xargs sha256sum) >"$tmp/sums$1"
  (cd "$root" && ./bazelw --output_base="$base" shutdown)
}

build 1
build 2
if diff -u "$tmp/sums1" "$tmp/sums2"; then
  cat "$tmp/sums1"
  echo "reproducible: $(wc -l <"$tmp/sums1") outputs identical"
  chmod -R u+w "$tmp" && rm -rf "$tmp"
else
  echo "NOT reproducible: see $tmp" >&2
  exit 1
fi
