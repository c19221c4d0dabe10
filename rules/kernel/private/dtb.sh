#!/bin/bash
# Compiles a device's own .dts with the kernel's dtc (from dt_tools.sh):
#
#   dtb.sh TOOLS CROSS_COMPILE DTS OUT [DTSI...]
#
# Preprocessed like the kernel's DTS (cpp with the dt-bindings headers and
# the arch's dts directory for includes), the .dtsi and headers it includes
# copied next to it. dtc warnings are errors: a DTS that dtc frowns at is a
# board that half-probes.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 TOOLS CROSS_COMPILE DTS OUT [DTSI...]" >&2
  exit 2
fi
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
tools=$(abs "$1") cross=$2 dts=$3 out=$(abs "$4")
shift 4

work=$(mktemp -d "${TMPDIR:-/tmp}/dtb.XXXXXX")
trap 'rm -rf "$work"' EXIT
for f in "$dts" "$@"; do cp "$f" "$work/"; done
base=$(basename "$dts")
"${cross}gcc" -E -nostdinc -undef -D__DTS__ -x assembler-with-cpp -P \
  -I "$work" -I "$tools/dts" -I "$tools/include" \
  -o "$work/$base.pp" "$work/$base"
if ! "$tools/bin/dtc" -I dts -O dtb -i "$work" -i "$tools/dts" -o "$out" "$work/$base.pp" 2>"$work/dtc.log"; then
  cat "$work/dtc.log" >&2
  echo "kernel_build: dtc failed on $dts" >&2
  exit 1
fi
if [ -s "$work/dtc.log" ]; then
  cat "$work/dtc.log" >&2
  echo "kernel_build: dtc warned on $dts (see above)" >&2
  exit 1
fi
