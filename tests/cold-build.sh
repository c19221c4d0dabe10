#!/usr/bin/env bash
# Measures the cold-build figures of docs/build-times.md: from a fresh clone
# of this workspace's HEAD, with a new output base, an empty disk cache and
# a fresh remote cache (tools/remote-cache/serve.sh), it times
#
#   1. the README's first command (//devices/gl-ar750:image), cold;
#   2. the same again: a no-op build;
#   3-6. each other device's image after that (what it adds: its own kernel,
#        and its architecture's toolchain and userland when it is the first);
#   7. `bazel test //...` after that (the test images, the Go tools and
#      tests, and running the tests);
#   8. `bazel test //...` again: a no-op with every result cached;
#   9. `bazel test //...` in a second new output base with an empty disk
#      cache, reading the remote cache that 1-7 filled (a warm remote cache).
#
# and samples the load average every 10 s. Too slow for CI (an hour and a
# half on 2 cores); run it by hand on an otherwise idle machine:
#
#   tests/cold-build.sh [WORKDIR]
#
# WORKDIR (default: a new temporary directory) keeps the clone, the output
# bases, the caches and the logs; it is not removed, so that its disk cache
# can be copied into ~/.cache/bazwrt/disk-cache (cp -rn WORKDIR/dc/. ...).
# Results go to WORKDIR/times (one line a step) and WORKDIR/load.log. The
# machine's apt packages, Go modules and source tarballs are not cold: the
# first command's bootstrap finds them installed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/bazwrt-cold.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [ -e "$work/src" ]; then
  echo "cold-build.sh: $work/src exists: give an empty WORKDIR" >&2
  exit 2
fi
git clone -q "$root" "$work/src"
cd "$work/src"
git log --oneline -1 >"$work/commit"
nproc >"$work/nproc"
./bazelw version >"$work/bootstrap.log" 2>&1 || { cat "$work/bootstrap.log" >&2; exit 1; }

tools/remote-cache/serve.sh -b -d "$work/cache" >"$work/serve.log" 2>&1 || { cat "$work/serve.log" >&2; exit 1; }
url=$(cat "$work/cache/url")
anon=http://${url#*@}

(while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done) >"$work/load.log" &
sampler=$!
cleanup() {
  kill "$sampler" 2>/dev/null
  [ -e "$work/cache/nginx.pid" ] && kill "$(cat "$work/cache/nginx.pid")" 2>/dev/null
  for ob in "$work/ob" "$work/ob2"; do
    [ -d "$ob" ] && ./bazelw --output_base="$ob" shutdown >/dev/null 2>&1
  done
}
trap cleanup EXIT

status=0
# step NAME OUTPUT_BASE DISK_CACHE REMOTE_CACHE COMMAND [FLAG|TARGET...]
step() {
  local name=$1 ob=$2 dc=$3 cache=$4 cmd=$5 start end rc
  shift 5
  start=$(date +%s.%N)
  ./bazelw --output_base="$ob" --max_idle_secs=14400 "$cmd" \
    --experimental_convenience_symlinks=ignore --disk_cache="$dc" \
    --config=remote --remote_cache="$cache" "$@" >"$work/$name.log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  [ $rc = 0 ] || status=1
  printf '%s rc=%s %s s; %s\n' "$name" "$rc" \
    "$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')" \
    "$(grep -E '^INFO: Elapsed' "$work/$name.log" | tail -1 | sed 's/^INFO: //')" | tee -a "$work/times"
}

step 1-readme "$work/ob" "$work/dc" "$url" build //devices/gl-ar750:image
step 2-noop "$work/ob" "$work/dc" "$url" build //devices/gl-ar750:image
step 3-qemu "$work/ob" "$work/dc" "$url" build //devices/qemu:image
step 4-qemu-armv7l "$work/ob" "$work/dc" "$url" build //devices/qemu-armv7l:image
step 5-qemu-aarch64 "$work/ob" "$work/dc" "$url" build //devices/qemu-aarch64:image
step 6-qemu-isp "$work/ob" "$work/dc" "$url" build //devices/qemu-isp:image
step 7-test "$work/ob" "$work/dc" "$url" test //...
step 8-noop-test "$work/ob" "$work/dc" "$url" test //...
step 9-warm-remote "$work/ob2" "$work/dc2" "$anon" test //... --noremote_upload_local_results
awk '{print $2}' "$work/load.log" | sort -n | tail -1 | sed 's/^/highest 1-minute load: /' | tee -a "$work/times"
exit $status
