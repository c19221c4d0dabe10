# Sourced by kernel_config.sh, kernel_build.sh and the menuconfig script: the
# one way a kernel tree is made from the source tarball and the patches, so
# the config, the build and menuconfig always see the same tree.
#
#   unpack_kernel SRC.tar.xz DIR [PATCH...]
#
# Relative paths are taken from the current directory, and errors name the
# files as given (workspace paths in Bazel actions).
#
# Patches apply in order with `patch -p1`; one that does not apply cleanly
# (fuzz, an already-applied hunk) fails naming the patch, never leaving a
# half-patched tree to build.
unpack_kernel() {
  local src=$1 dir=$2 p file
  shift 2
  tar -xJf "$src" -C "$dir" --strip-components=1
  for p in "$@"; do
    case "$p" in /*) file=$p ;; *) file=$PWD/$p ;; esac
    if ! patch -d "$dir" -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -s -i "$file" >"$dir/.patch.log" 2>&1; then
      cat "$dir/.patch.log" >&2
      echo "kernel: patch $p does not apply cleanly to $src (output above)" >&2
      return 1
    fi
  done
  rm -f "$dir/.patch.log"
}
