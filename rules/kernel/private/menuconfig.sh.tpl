#!/bin/bash
# bazel run <device>:kernel_menuconfig [-- menuconfig|nconfig|config|...]
#
# Unpacks the kernel source into a temporary directory, loads the resolved
# .config of @LABEL@, runs the chosen configurator and prints the options
# that changed as a fragment. Writes nothing into the workspace.
set -euo pipefail
runfiles=$PWD
ui=${1:-menuconfig}
work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-menuconfig.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "unpacking the kernel source into $work ..." >&2
patches=()
for p in @PATCHES@; do patches+=("$runfiles/$p"); done
. "$runfiles/@UNPACK@"
unpack_kernel "$runfiles/@SRC@" "$work" "${patches[@]}"
cp "$runfiles/@CONFIG@" "$work/.config"
cp "$runfiles/@CONFIG@" "$work/.config.before"
chmod u+w "$work/.config" "$work/.config.before"
if [ "$ui" = menuconfig ] || [ "$ui" = nconfig ]; then
  [ -e /usr/include/ncurses.h ] || echo "warning: $ui needs Debian's libncurses-dev; or run with -- config" >&2
fi
(cd "$work" && make ARCH=@KARCH@ CROSS_COMPILE=@CROSS_COMPILE@ "$ui")
(cd "$work" && make -s ARCH=@KARCH@ CROSS_COMPILE=@CROSS_COMPILE@ olddefconfig)
echo
echo "# Changes to @LABEL@, as a fragment (options Kconfig selected along are included):"
"$runfiles/@CHECKER@" -diff "$work/.config.before" "$work/.config"
