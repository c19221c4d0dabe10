#!/bin/bash
# Builds one C package in one action: unpacks the source tarball into a
# scratch directory, configures and builds it out of tree with the musl (or,
# for musl itself, the bare) cross toolchain, installs it into the staging
# tree and writes the manifest. Called by package.bzl; everything comes in
# through environment variables set there.
set -euo pipefail

execroot=$PWD
staging=$execroot/$PKG_STAGING
manifest=$execroot/$PKG_MANIFEST
mkdir -p "$staging"

# A scratch directory outside the output tree. Its random name never reaches
# the outputs: -ffile-prefix-map maps it to /build.
work=$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-$PKG_NAME.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$work/src
build=$work/build
mkdir -p "$src" "$build" "$work/bin"
[ -z "$PKG_SRC" ] || tar -xf "$execroot/$PKG_SRC" -C "$src" --strip-components=1 --no-same-owner --no-same-permissions

# Nothing of this machine, its user or the time may reach the outputs.
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH HOSTNAME=bazwrt USER=bazwrt LOGNAME=bazwrt
export KBUILD_BUILD_HOST=bazwrt KBUILD_BUILD_USER=bazwrt KCONFIG_NOTIMESTAMP=1
umask 022

prefix_map="-ffile-prefix-map=$work=/build -ffile-prefix-map=$execroot=/execroot"

# The cross tools under the triple's name. gcc is a wrapper that always adds
# the platform's flags, the musl sysroot (a gcc specs file, with the paths of
# this action) and the hardening flags, whatever the package's build system
# does with CFLAGS and LDFLAGS.
specs=
if [ -n "${TC_SYSROOT:-}" ]; then
  sysroot=$execroot/$TC_SYSROOT
  libgcc=$TC_LIBGCC
  [ -n "$libgcc" ] && libgcc=$execroot/$libgcc || libgcc=$("${TC_PREFIX}gcc" $TC_ARCH_FLAGS -print-libgcc-file-name)
  specs=$work/musl.specs
  cat >"$specs" <<SPECS
%rename cpp_options old_cpp_options

*cpp_options:
-nostdinc -isystem $sysroot/include -isystem include%s %(old_cpp_options)

*cc1:
%(cc1_cpu) -nostdinc -isystem $sysroot/include -isystem include%s

*link_libgcc:
-L$sysroot/lib

*libgcc:
$libgcc

*startfile:
%{static-pie:$sysroot/lib/rcrt1.o;static:$sysroot/lib/crt1.o;:$sysroot/lib/Scrt1.o} $sysroot/lib/crti.o

*endfile:
$sysroot/lib/crtn.o

*link:
-nostdlib %{shared:-shared} %{static:-static} %{static-pie:-static -pie --no-dynamic-linker -z text} %{rdynamic:-export-dynamic}

SPECS
fi
cat >"$work/bin/$TC_TRIPLE-gcc" <<WRAP
#!/bin/bash
link=1
for a in "\$@"; do
  # Compiling only, or a relocatable (-r) or shared link: no program flags.
  case "\$a" in -c|-S|-E|-M|-MM|-r|-Wl,-r|-shared) link= ;; esac
done
exec ${TC_PREFIX}gcc $TC_ARCH_FLAGS ${specs:+-specs=$specs} $prefix_map $TC_CFLAGS \${link:+$TC_LDFLAGS} "\$@"
WRAP
chmod +x "$work/bin/$TC_TRIPLE-gcc"
ln -s "$TC_TRIPLE-gcc" "$work/bin/$TC_TRIPLE-cc"
for t in ar as ld nm objcopy objdump ranlib readelf strip size strings; do
  ln -s "${TC_PREFIX}$t" "$work/bin/$TC_TRIPLE-$t"
done
export PATH=$work/bin:$PATH
export CC=$TC_TRIPLE-gcc CROSS_COMPILE=$TC_TRIPLE- AR=$TC_TRIPLE-ar RANLIB=$TC_TRIPLE-ranlib STRIP=$TC_TRIPLE-strip
export HOST=$TC_TRIPLE
jobs=$(nproc)
# Bazel (4.2: no resource_set for actions) runs as many actions as there
# are cores and counts each as one, while a package's make runs -j$jobs:
# on 2 cores two package builds made a load of 14-19. make's -l starts no
# new job while the machine's load is at or above the core count, so
# concurrent builds share the cores and a lone build still uses them all.
# From the environment, so that every make of the package (and its
# sub-makes) has it; the value is not in the action's key.
export MAKEFLAGS="-l$jobs"

# The package's own steps. $src, $build, $staging, $execroot and $jobs are
# set; the build runs in $build.
# The log goes to a file, and its end to stderr when the build fails: a
# package build prints megabytes of warnings.
cd "$build"
export src build staging execroot jobs
if ! bash -euo pipefail -c "$PKG_SCRIPT" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  echo "$PKG_NAME: build failed (the last 60 lines of its log are above)" >&2
  exit 1
fi

# The manifest: every installed file, sorted, with what it is.
cd "$staging"
chmod -R u+w,go-w .
find . -mindepth 1 \( -type f -o -type l \) | LC_ALL=C sort | while read -r f; do
  p=${f#./}
  if [ -L "$f" ]; then
    echo "link 0777 $p -> $(readlink "$f")"
  elif [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
    echo "elf 0$(stat -c %a "$f") $p"
  else
    echo "file 0$(stat -c %a "$f") $p"
  fi
done >"$manifest"

# The binaries the rule names, as files of their own.
set -- $PKG_BINARIES
while [ $# -ge 2 ]; do
  [ -f "$staging/$1" ] || { echo "$PKG_NAME: $1 was not installed" >&2; exit 1; }
  cp "$staging/$1" "$execroot/$2"
  shift 2
done
