#!/usr/bin/env bash
# Checks that the device images build reproducibly: builds them twice, with
# two fresh output bases and two fresh, empty disk caches (nothing shared),
# and compares the sha256 of the kernels, root filesystems and images, and
# of every file the mips userland packages installed (their staging trees,
# as built for the images). Too slow for CI (two cold builds of the
# toolchain, userland and both kernels: about 1.3 h on 2 cores); run it by
# hand before claiming reproducibility:
#
#   tests/reproducible.sh
#
# Prints the cold build times: first the qemu root filesystem (the Go tools,
# musl, libgcc, busybox, dropbear, init: the mips userland), then the rest
# (both kernels and the gl-ar750 images). Exits 1 and prints the differing
# files when the builds differ. With REPRO_KEEP=1 the output bases and disk
# caches are kept (e.g. to copy a cache into ~/.cache/bazwrt/disk-cache).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-repro.XXXXXX")
first=(//devices/qemu:rootfs)
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
  local flags=(--disk_cache="$tmp/cache$1")
  start=$(date +%s)
  (cd "$root" && ./bazelw --output_base="$base" build "${flags[@]}" "${first[@]}" >&2)
  echo "build $1: ${first[*]}: $(($(date +%s) - start)) s from nothing"
  start=$(date +%s)
  (cd "$root" && ./bazelw --output_base="$base" build "${flags[@]}" "${targets[@]}" >&2)
  echo "build $1: then ${targets[*]}: $(($(date +%s) - start)) s"
  local bin out
  bin=$(cd "$root" && ./bazelw --output_base="$base" info bazel-bin 2>/dev/null)
  out=$(dirname "$(dirname "$bin")")
  (cd "$bin" && find "${outputs[@]}" -type f | LC_ALL=C sort | xargs sha256sum) >"$tmp/sums$1"
  # The packages as the images' platform transition built them: every file
  # and link of each staging tree and its stripped rootfs tree, named by its
  # path under bazel-out.
  (cd "$out" && find . -path './*/bin/userland/*' \( -path '*/staging/*' -o -path '*/rootfs/*' \) \( -type f -o -type l \) | LC_ALL=C sort | while read -r f; do
    if [ -L "$f" ]; then echo "link $(readlink "$f") $f"; else echo "$(sha256sum <"$f" | cut -c1-64)  $f"; fi
  done) >>"$tmp/sums$1"
  (cd "$root" && ./bazelw --output_base="$base" shutdown)
}

build 1
build 2
if diff -u "$tmp/sums1" "$tmp/sums2"; then
  grep -v '/userland/' "$tmp/sums1"
  echo "reproducible: $(wc -l <"$tmp/sums1") outputs identical ($(grep -c '/userland/' "$tmp/sums1") of them userland files)"
  [ -n "${REPRO_KEEP:-}" ] || { chmod -R u+w "$tmp" && rm -rf "$tmp"; }
else
  echo "NOT reproducible: see $tmp" >&2
  exit 1
fi
