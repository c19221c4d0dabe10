#!/bin/bash
# kernel_build.sh for a kernel with firmware built in (kernel_firmware).
# The environment is kernel_build.sh's, plus:
#
#   FIRMWARE      "name=file ..." each file by its path under /lib/firmware
#   KERNEL_BUILD  the path of kernel_build.sh
#
# The .config says CONFIG_EXTRA_FIRMWARE_DIR="../firmware", relative to the
# source tree; kernel_build.sh unpacks the tree into a new directory of
# $TMPDIR. So the files go to $base/firmware and kernel_build.sh runs with
# TMPDIR=$base. A separate script, so that kernels without firmware keep
# their action keys. //tests/gl-ar750/firmware proves the files end up in
# vmlinux.
set -euo pipefail

execroot=$PWD
base=$(mktemp -d "${TMPDIR:-/tmp}/kernel-firmware.XXXXXX")
trap 'rm -rf "$base"' EXIT
# The names were checked at analysis (kernel_firmware): no spaces, no "..".
for spec in $FIRMWARE; do
  name=${spec%%=*} file=${spec#*=}
  mkdir -p "$base/firmware/$(dirname "$name")"
  cp "$execroot/$file" "$base/firmware/$name"
done
TMPDIR=$base "$execroot/$KERNEL_BUILD"
