#!/bin/bash
# The build step of kernel_build. Everything comes in the environment (paths
# relative to the execroot), set by the rule:
#
#   SRC CONFIG KARCH CROSS_COMPILE     source tarball, resolved .config, ARCH, prefix
#   PATCHES       the kernel_config's patches, applied in order (unpack.sh)
#   OUT_VMLINUX OUT_SYSTEM_MAP OUT_SYMVERS OUT_BUILTIN OUT_RELEASE
#   IMAGES        "target=out ..."  boot images, by make target (vmlinux.bin, zImage, Image)
#   INTREE_DTBS   "name.dtb=out ..." device trees of the kernel tree (path under arch/$KARCH/boot/dts)
#
# The tree is unpacked inside the action (one input instead of ~80k) into a
# temporary directory, whose path is mapped away (-ffile-prefix-map), and the
# build stamps (time, user, host, build number) are fixed: two builds of the
# same inputs give the same bits.
set -euo pipefail

execroot=$PWD
abs() { case "$1" in /*) echo "$1" ;; *) echo "$execroot/$1" ;; esac; }

if ! command -v "${CROSS_COMPILE}gcc" >/dev/null; then
  echo "kernel_build: ${CROSS_COMPILE}gcc not found: install Debian's gcc-${CROSS_COMPILE%-} (./bazelw installs it)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=unpack.sh
. "$(dirname "${BASH_SOURCE[0]}")/unpack.sh"
# shellcheck disable=SC2086 # PATCHES is a list of paths without spaces.
unpack_kernel "$SRC" "$work" ${PATCHES:-}
cd "$work"
cp "$(abs "$CONFIG")" .config

jobs=$(nproc)
# CC carries the prefix map too: arch/mips/vdso/Makefile keeps only a few
# of KBUILD_CFLAGS, drops KCFLAGS, and builds with -g, so without it the
# vDSO's DWARF holds $work and its build ID (and vmlinux's) differ from
# one build directory to the next. "$work=" (no slash) also matches
# DW_AT_comp_dir, which is $work itself.
kmake=(make ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE"
  CC="${CROSS_COMPILE}gcc -ffile-prefix-map=$work=/build"
  KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970"
  KBUILD_BUILD_USER=bazwrt KBUILD_BUILD_HOST=bazwrt KBUILD_BUILD_VERSION=1
  LOCALVERSION=
  KCFLAGS="-ffile-prefix-map=$work/=" KAFLAGS="-ffile-prefix-map=$work/=")

run() {
  if ! "${kmake[@]}" "$@" >>"$work/build.log" 2>&1; then
    tail -n 100 "$work/build.log" >&2
    echo "kernel_build: make $* failed (last 100 lines above)" >&2
    exit 1
  fi
}

# The config must already be resolved: olddefconfig must not change it.
run olddefconfig
if ! cmp -s .config "$(abs "$CONFIG")"; then
  diff "$(abs "$CONFIG")" .config >&2 || true
  echo "kernel_build: olddefconfig changed $CONFIG: it was not made by kernel_config for this source" >&2
  exit 1
fi

targets=(vmlinux)
for spec in $IMAGES; do targets+=("${spec%%=*}"); done
for spec in $INTREE_DTBS; do targets+=("${spec%%=*}"); done
# -l: no new job while the load is at or above the core count, so that
# this build shares the cores with the other actions Bazel runs at once
# (rules/pkg/private/build.sh says more).
run -j"$jobs" -l"$jobs" "${targets[@]}"

cp vmlinux "$(abs "$OUT_VMLINUX")"
cp System.map "$(abs "$OUT_SYSTEM_MAP")"
# Without CONFIG_MODULES there is no Module.symvers: an empty one says so.
if [ -f Module.symvers ]; then cp Module.symvers "$(abs "$OUT_SYMVERS")"; else : >"$(abs "$OUT_SYMVERS")"; fi
if [ -f modules.builtin ]; then cp modules.builtin "$(abs "$OUT_BUILTIN")"; else : >"$(abs "$OUT_BUILTIN")"; fi
"${kmake[@]}" -s kernelrelease >"$(abs "$OUT_RELEASE")"

for spec in $IMAGES; do
  target=${spec%%=*} out=${spec#*=}
  cp "arch/$KARCH/boot/$target" "$(abs "$out")"
done
for spec in $INTREE_DTBS; do
  dtb=${spec%%=*} out=${spec#*=}
  cp "arch/$KARCH/boot/dts/$dtb" "$(abs "$out")"
done
