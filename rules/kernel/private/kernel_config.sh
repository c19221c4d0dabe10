#!/bin/bash
# The config step of kernel_config: base config + fragments -> .config.
#
#   kernel_config.sh SRC.tar.xz ARCH CROSS_COMPILE BASE OUT CHECKER FRAGMENT...
#
# Unpacks the kernel source and applies the patches named in $PATCHES
# (space-separated paths, in order; see unpack.sh), runs `make BASE` (e.g.
# tinyconfig), appends the fragments in order (a later value overrides an
# earlier one, as Kconfig reads them), runs `make olddefconfig`, writes the result to OUT and runs the
# checker, which fails naming every option a fragment asked for that Kconfig
# dropped or changed. Also run directly by //tests/kernel:config_test.
set -euo pipefail

if [ $# -lt 6 ]; then
  echo "usage: $0 SRC ARCH CROSS_COMPILE BASE OUT CHECKER FRAGMENT..." >&2
  exit 2
fi
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
srcarg=$1 arch=$2 cross=$3 base=$4 out=$(abs "$5") checker=$(abs "$6")
shift 6
frags=()
for f in "$@"; do frags+=("$(abs "$f")"); done

if ! command -v "${cross}gcc" >/dev/null; then
  echo "kernel_config: ${cross}gcc not found: install Debian's gcc-${cross%-} (./bazelw installs it)" >&2
  exit 1
fi
for tool in make bison flex bc; do
  command -v "$tool" >/dev/null || { echo "kernel_config: $tool not found: install Debian's $tool" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-config.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=unpack.sh
. "$(dirname "${BASH_SOURCE[0]}")/unpack.sh"
# shellcheck disable=SC2086 # PATCHES is a list of paths without spaces.
unpack_kernel "$srcarg" "$work" ${PATCHES:-}
cd "$work"

kmake() {
  if ! make -s ARCH="$arch" CROSS_COMPILE="$cross" "$@" >"$work/make.log" 2>&1; then
    cat "$work/make.log" >&2
    echo "kernel_config: make $* failed" >&2
    exit 1
  fi
}
kmake "$base"
for f in "${frags[@]}"; do
  [ -f "$f" ] || { echo "kernel_config: fragment $f does not exist" >&2; exit 1; }
  printf '\n# fragment %s\n' "${f#"$PWD"/}" >>.config
  cat "$f" >>.config
done
kmake olddefconfig
cp .config "$out"
cd - >/dev/null
# Names fragments as given (workspace-relative in Bazel actions). Not exec:
# the EXIT trap must still remove the unpacked tree.
"$checker" -config "$out" "$@"
