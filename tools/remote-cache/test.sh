#!/usr/bin/env bash
# test.sh: proves that two output bases share their work through a fresh
# nginx remote cache (serve.sh). Run by hand from the workspace:
#
#   tools/remote-cache/test.sh [-k] [-w WORKDIR] [-- [BUILD FLAG...] TARGET...]
#
# 1. starts a fresh cache with serve.sh and checks with curl that a PUT
#    without the password is refused (401), one with it stored (201), and
#    that anyone may read (200);
# 2. builds TARGETs (default: a few Go tools, one of them cgo with the host
#    packages as inputs) in output base A, with no disk cache, writing to the
#    cache;
# 3. builds them in output base B, with no disk cache, reading the cache
#    without credentials (as a developer with read access only);
# 4. fails unless B executed no action (its "N processes:" line has only
#    internal ones and remote cache hits) and every output file of B is
#    bit-identical (sha256) to A's.
#
# -w WORKDIR holds the cache and the output bases (default: a new temporary
# directory); -k keeps them (and the server) instead of removing them at the
# end. Each build starts a Bazel server of its own: allow memory for two.
set -euo pipefail

keep=0 work=""
while getopts "kw:h" o; do
  case $o in
    k) keep=1 ;;
    w) work=$OPTARG ;;
    *) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//tools:uimage //tools:fwimage //tools:rootfs //tools:mksquashfs)

root=$(cd "$(dirname "$0")/../.." && pwd)
bazelw=$root/bazelw
if [ -n "$work" ]; then
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/remote-cache-test.XXXXXX")
fi
log() { echo "test.sh: $*" >&2; }

cleanup() {
  [ $keep = 1 ] && { log "kept $work"; return; }
  local ob
  for ob in "$work/ob-a" "$work/ob-b"; do
    [ -d "$ob" ] && "$bazelw" --output_base="$ob" clean --expunge >/dev/null 2>&1 || true
  done
  [ -e "$work/cache/nginx.pid" ] && kill "$(cat "$work/cache/nginx.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The server and its access rules.
"$root/tools/remote-cache/serve.sh" -b -d "$work/cache" >"$work/serve.log"
url=$(cat "$work/cache/url")
anon=http://${url#*@}
blob=$work/blob
echo "remote cache test blob $$" >"$blob"
key=$(sha256sum "$blob" | cut -c1-64)
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
put_anon=$(code -T "$blob" "$anon/cas/$key")
put_auth=$(code -T "$blob" "$url/cas/$key")
get_anon=$(code "$anon/cas/$key")
log "PUT without password: $put_anon, with: $put_auth; GET without password: $get_anon"
[ "$put_anon" = 401 ] && [ "$put_auth" = 201 ] && [ "$get_anon" = 200 ] || {
  log "FAIL: expected 401, 201 and 200"
  exit 1
}

# 2 and 3. The builds. --disk_cache= overrides .bazelrc.local's disk cache.
build() { # NAME REMOTE_CACHE_URL FLAGS...
  local name=$1 cache=$2 start end
  shift 2
  start=$(date +%s.%N)
  "$bazelw" --output_base="$work/ob-$name" --max_idle_secs=600 build \
    --experimental_convenience_symlinks=ignore --disk_cache= \
    --config=remote --remote_cache="$cache" "$@" "${targets[@]}" \
    2>&1 | tee "$work/build-$name.log" >&2
  end=$(date +%s.%N)
  echo "$start $end" | awk '{printf "%.1f\n", $2 - $1}' >"$work/time-$name"
}
log "build A (writes the cache): ${targets[*]}"
build a "$url"
log "build B (reads the cache, no credentials): ${targets[*]}"
build b "$anon" --noremote_upload_local_results

# 4. What B executed, and its outputs.
processes() { grep -E '^INFO: [0-9]+ process(es)?' "$work/build-$1.log" | tail -1 | sed 's/^INFO: //; s/\.$//'; }
pa=$(processes a) pb=$(processes b)
# B's processes other than internal ones and remote cache hits.
executed=$(echo "$pb" | sed 's/^[0-9]* process[es]*[:.] *//; s/\.$//' | tr ',' '\n' |
  awk '!/internal|remote cache hit/ {s += $1} END {print s + 0}')

outputs() { # the output files of a base, with their sha256, by path
  (cd "$work/ob-$1/execroot/bazwrt/bazel-out" &&
    find . -type f ! -path '*.runfiles/*' ! -name '*.runfiles_manifest' \
      ! -path './_tmp/*' ! -name '*-status.txt' ! -path '*/testlogs/*' -print0 |
    sort -z | xargs -0 sha256sum)
}
outputs a >"$work/outputs-a"
outputs b >"$work/outputs-b"
n=$(wc -l <"$work/outputs-a")
store=$(du -sh "$work/cache/cache" | cut -f1)

cat <<REPORT
A: $pa; $(cat "$work/time-a") s
B: $pb; $(cat "$work/time-b") s
B executed $executed action(s); $n output files in A, cache holds $store
REPORT
status=0
if [ "$executed" != 0 ]; then
  log "FAIL: B executed $executed action(s) instead of taking them from the cache"
  status=1
fi
if ! diff "$work/outputs-a" "$work/outputs-b" >"$work/outputs.diff"; then
  log "FAIL: outputs differ:"
  cat "$work/outputs.diff" >&2
  status=1
elif [ "$n" = 0 ]; then
  log "FAIL: no outputs found"
  status=1
else
  log "outputs of A and B are bit-identical ($n files)"
fi
[ $status = 0 ] && log PASS
exit $status
