#!/bin/bash
# Builds a soft-float libgcc.a (see soft_libgcc in toolchain.bzl):
#   soft_libgcc.sh PREFIX ARCH_FLAGS GCC_SOURCE_TARBALL SHA256 CHECKSEC OUT
# Debian's libgcc.a, less every member with an FPU instruction (so a routine
# we do not replace fails at link time instead of trapping on the device),
# plus the SF and DF routines of libgcc/soft-fp, compiled soft-float.
set -euo pipefail
prefix=$1 arch_flags=$2 tarball=$3 sha=$4 checksec=$PWD/$5 out=$PWD/$6

if ! echo "$sha  $tarball" | sha256sum -c --quiet - >&2; then
  echo "soft_libgcc: $tarball is not the pinned one (sha256 $sha): install gcc-12-source (./bazelw does)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-libgcc.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
top=gcc-12.2.0
tar -xJf "$tarball" --no-same-owner --wildcards "$top/libgcc/soft-fp/*" "$top/libgcc/config/mips/sfp-machine.h" "$top/include/longlong.h"

# Debian's members that use no FPU, with their hard-float ABI marks removed:
# they are integer code, and the marks would make the linker tag soft-float
# programs as mixed.
mkdir members
(cd members && ar x "$("${prefix}gcc" $arch_flags -print-libgcc-file-name)")
"$checksec" -list-fpu members/*.o >fpu.txt
xargs -r rm -- <fpu.txt
for o in members/*.o; do
  "${prefix}objcopy" -R .gnu.attributes -R .MIPS.abiflags "$o"
done

# The soft-fp routines of libgcc's t-softfp for SF and DF with SI and DI.
g=$top/libgcc
for m in sf df; do
  for f in add${m}3 sub${m}3 neg${m}2 mul${m}3 div${m}3 eq${m}2 ge${m}2 le${m}2 unord${m}2 \
    fix${m}si fixuns${m}si fix${m}di fixuns${m}di floatsi${m} floatunsi${m} floatdi${m} floatundi${m}; do
    echo $f
  done
done >routines.txt
echo extendsfdf2 >>routines.txt
echo truncdfsf2 >>routines.txt
while read -r f; do
  "${prefix}gcc" $arch_flags -O2 -fPIC -fno-stack-protector -fvisibility=hidden \
    -ffile-prefix-map="$work"=/build \
    -I"$g/config/mips" -I"$g/soft-fp" -I"$top/include" \
    -c "$g/soft-fp/$f.c" -o "members/$f.o"
done <routines.txt

# The soft-fp objects must be FPU-free too.
"$checksec" -list-fpu members/*.o >fpu2.txt
if [ -s fpu2.txt ]; then
  echo "soft_libgcc: FPU instructions left in:" >&2
  cat fpu2.txt >&2
  exit 1
fi
(cd members && LC_ALL=C ls | LC_ALL=C sort >../order.txt && "${prefix}ar" rcD "$out" $(cat ../order.txt))
