#!/usr/bin/env bash
# bench.sh compares tools/mksquashfs with Debian's mksquashfs on the same
# tree: image size and wall-clock time, for xz (and gzip). It is a
# benchmark, not a test.
#
# It copies nothing: the manifest points at the files of SRC (default
# /usr/lib/python3.11, ~54 MB of .py, .pyc and .so files), all owned by
# 0:0 with the files' own modes, as `mksquashfs -all-root` stores them.
# Each tool runs RUNS times (default 3); the best time counts. Both use all
# CPUs. Both images are checked to list the same paths.
#
# For xz it also measures a build with `-tags liblzma` (cgo, liblzma's
# encoder; skipped without /usr/include/lzma.h).
#
# Environment: SRC, RUNS, BLOCK (default 131072), COMPS (default "xz gzip").
# Needs: go, python3, bc, squashfs-tools; liblzma-dev for the liblzma row.
# Run from anywhere:
#
#	tools/mksquashfs/bench.sh
set -euo pipefail

SRC=${SRC:-/usr/lib/python3.11}
RUNS=${RUNS:-3}
BLOCK=${BLOCK:-131072}
COMPS=${COMPS:-xz gzip}

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in go python3 bc mksquashfs unsquashfs; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool not found" >&2; exit 1; }
done

echo "building tools/mksquashfs..."
(cd "$repo" && go build -o "$work/ours" ./tools/mksquashfs)
if [[ -e /usr/include/lzma.h ]]; then
	(cd "$repo" && go build -tags liblzma -o "$work/ours-liblzma" ./tools/mksquashfs)
fi

# The manifest: every directory, file and symlink under SRC.
python3 - "$SRC" >"$work/manifest.json" <<'PY'
import json, os, stat, sys
src = os.path.abspath(sys.argv[1])
out = []
for dirpath, dirnames, filenames in os.walk(src):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        full = os.path.join(dirpath, name)
        st = os.lstat(full)
        p = "/" + os.path.relpath(full, src)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            out.append({"path": p, "type": "symlink", "mode": 0o777, "target": os.readlink(full)})
        elif stat.S_ISDIR(st.st_mode):
            out.append({"path": p, "type": "dir", "mode": mode})
        elif stat.S_ISREG(st.st_mode):
            out.append({"path": p, "type": "file", "mode": mode, "source": full})
json.dump(out, sys.stdout, indent=0)
PY
files=$(grep -c '"type": "file"' "$work/manifest.json" || true)
bytes=$(du -sb --apparent-size "$SRC" | cut -f1)
echo "tree: $SRC, $files files, $bytes bytes; block size $BLOCK; $(nproc) CPUs"

# best_time CMD...: runs CMD RUNS times, prints the best wall time (s).
best_time() {
	local best="" t0 t1 t
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [[ -z $best ]] || (($(echo "$t < $best" | bc -l))); then best=$t; fi
	done
	printf '%.2f' "$best"
}

# measure LABEL BINARY COMP: one row.
measure() {
	local label=$1 bin=$2 comp=$3
	t_ours=$(best_time "$bin" -manifest "$work/manifest.json" -o "$work/ours.$comp" -comp "$comp" -b "$BLOCK")
	s_ours=$(stat -c %s "$work/ours.$comp")
	unsquashfs -l "$work/ours.$comp" | tail -n +4 | sort >"$work/l.ours"
	if ! cmp -s "$work/l.ours" "$work/l.ref"; then
		echo "bench.sh: $label: the images list different paths" >&2
		diff "$work/l.ref" "$work/l.ours" | head >&2
		exit 1
	fi
	printf '%-14s size: ours %9d, mksquashfs %9d, ratio %.3f   time: ours %6ss, mksquashfs %6ss, ratio %.2f\n' \
		"$label" "$s_ours" "$s_ref" "$(echo "$s_ours / $s_ref" | bc -l)" \
		"$t_ours" "$t_ref" "$(echo "$t_ours / $t_ref" | bc -l)"
}

for comp in $COMPS; do
	t_ref=$(best_time mksquashfs "$SRC" "$work/ref.$comp" -comp "$comp" -b "$BLOCK" -noappend -all-root -no-xattrs)
	s_ref=$(stat -c %s "$work/ref.$comp")
	unsquashfs -l "$work/ref.$comp" | tail -n +4 | sort >"$work/l.ref"
	measure "$comp (pure Go)" "$work/ours" "$comp"
	if [[ $comp == xz && -x $work/ours-liblzma ]]; then
		measure "xz (liblzma)" "$work/ours-liblzma" xz
	fi
done
