#!/bin/bash
# The device-tree tools of a kernel, in an action of their own so that a
# .dts edit recompiles one DTB in seconds instead of rebuilding the kernel:
#
#   dt_tools.sh SRC KARCH CROSS_COMPILE OUTDIR [PATCH...]
#
# Unpacks and patches the source (unpack.sh), builds the kernel's own dtc
# (`make scripts_dtc`, which wants some .config: tinyconfig's, as dtc does
# not depend on it, so a device config change does not rerun this action)
# and copies into
# OUTDIR: bin/dtc, include/dt-bindings and dts/ (arch/KARCH/boot/dts), all
# that dtb.sh needs to preprocess and compile a board's .dts as the kernel
# tree would.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 SRC KARCH CROSS_COMPILE OUTDIR [PATCH...]" >&2
  exit 2
fi
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
src=$1 karch=$2 cross=$3 out=$(abs "$4")
shift 4

work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-dt.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=unpack.sh
. "$(dirname "${BASH_SOURCE[0]}")/unpack.sh"
unpack_kernel "$src" "$work" "$@"
for target in tinyconfig scripts_dtc; do
  if ! make -C "$work" -s ARCH="$karch" CROSS_COMPILE="$cross" "$target" >"$work/make.log" 2>&1; then
    cat "$work/make.log" >&2
    echo "kernel_build: make $target failed" >&2
    exit 1
  fi
done
mkdir -p "$out/bin" "$out/include"
cp "$work/scripts/dtc/dtc" "$out/bin/dtc"
cp -rL "$work/include/dt-bindings" "$out/include/"
cp -rL "$work/arch/$karch/boot/dts" "$out/dts"
