#!/bin/bash
# The device-tree tools of a kernel, in an action of their own so that a
# .dts edit recompiles one DTB in seconds instead of rebuilding the kernel:
#
#   dt_tools.sh SRC CONFIG KARCH CROSS_COMPILE OUTDIR [PATCH...]
#
# Unpacks and patches the source (unpack.sh), builds the kernel's own dtc
# (`make scripts_dtc`, which needs the resolved .config) and copies into
# OUTDIR: bin/dtc, include/dt-bindings and dts/ (arch/KARCH/boot/dts), all
# that dtb.sh needs to preprocess and compile a board's .dts as the kernel
# tree would.
set -euo pipefail
if [ $# -lt 5 ]; then
  echo "usage: $0 SRC CONFIG KARCH CROSS_COMPILE OUTDIR [PATCH...]" >&2
  exit 2
fi
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
src=$1 config=$(abs "$2") karch=$3 cross=$4 out=$(abs "$5")
shift 5

work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-dt.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=unpack.sh
. "$(dirname "${BASH_SOURCE[0]}")/unpack.sh"
unpack_kernel "$src" "$work" "$@"
cp "$config" "$work/.config"
if ! make -C "$work" -s ARCH="$karch" CROSS_COMPILE="$cross" scripts_dtc >"$work/make.log" 2>&1; then
  cat "$work/make.log" >&2
  echo "kernel_build: make scripts_dtc failed" >&2
  exit 1
fi
mkdir -p "$out/bin" "$out/include"
cp "$work/scripts/dtc/dtc" "$out/bin/dtc"
cp -rL "$work/include/dt-bindings" "$out/include/"
cp -rL "$work/arch/$karch/boot/dts" "$out/dts"
