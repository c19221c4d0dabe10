#!/usr/bin/env bash
# bench.sh compares the download speed of tools/tftpd with Debian's
# in.tftpd (tftpd-hpa) on 127.0.0.1. It is a benchmark, not a test.
#
# It builds tftpd with `go build` into a temporary directory, creates a
# random file, serves it with both servers on unprivileged ports of
# 127.0.0.1, fetches it RUNS times from each with the same client and
# options, checks the SHA-256 once per server and prints MB/s (10^6
# bytes per second) and the ratio.
#
# Environment: RUNS (default 5), SIZE_MIB (64), BLKSIZE (1468).
# Needs: go, curl, tftpd-hpa (/usr/sbin/in.tftpd, run as root because
# it chroots), atftp for the windowsize run. Run from anywhere:
#
#	tools/tftpd/bench.sh
set -euo pipefail

RUNS=${RUNS:-5}
SIZE_MIB=${SIZE_MIB:-64}
BLKSIZE=${BLKSIZE:-1468}
IN_TFTPD=${IN_TFTPD:-/usr/sbin/in.tftpd}

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

for tool in go curl sha256sum awk; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool not found" >&2; exit 1; }
done

echo "building tftpd..."
(cd "$repo" && go build -o "$work/tftpd" ./tools/tftpd)

mkdir "$work/served"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/served/bench.bin"
chmod 755 "$work" "$work/served"
chmod 644 "$work/served/bench.bin"
want=$(sha256sum <"$work/served/bench.bin" | cut -d' ' -f1)
size=$((SIZE_MIB << 20))

# Two distinct unprivileged ports; a clash shows up as a failed start.
port_ours=$((20000 + RANDOM % 20000))
port_hpa=$((port_ours + 1))

"$work/tftpd" -listen "127.0.0.1:$port_ours" -a 127.0.0.1 "$work/served" 2>"$work/tftpd.log" &
pids+=($!)

have_hpa=no
if [[ $(id -u) -eq 0 && -x $IN_TFTPD ]]; then
	# -L: foreground; -s: chroot to the directory; -u root: stay root,
	# the files need no privilege drop here; -B: allow large blocks.
	"$IN_TFTPD" -L -s -u root -B 65464 -a "127.0.0.1:$port_hpa" "$work/served" 2>"$work/hpa.log" &
	pids+=($!)
	have_hpa=yes
else
	echo "bench.sh: skipping in.tftpd (needs root and $IN_TFTPD from tftpd-hpa)" >&2
fi
sleep 0.5
for pid in "${pids[@]}"; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "bench.sh: a server did not start:" >&2
		cat "$work"/*.log >&2
		exit 1
	fi
done

# fetch PORT CLIENT prints MB/s of one download with the named client.
fetch() {
	local port=$1 client=$2 start end
	rm -f "$work/out"
	case $client in
	curl)
		curl -q -sS --max-time 120 --tftp-blksize "$BLKSIZE" -o "$work/out" \
			-w '%{speed_download}' "tftp://127.0.0.1:$port/bench.bin" |
			awk '{ printf "%.1f\n", $1 / 1e6 }'
		;;
	atftp-window8)
		start=$(date +%s.%N)
		atftp --option "blksize $BLKSIZE" --option "windowsize 8" \
			-g -r bench.bin -l "$work/out" 127.0.0.1 "$port" >/dev/null 2>&1
		end=$(date +%s.%N)
		awk -v s="$start" -v e="$end" -v n="$size" 'BEGIN { printf "%.1f\n", n / (e - s) / 1e6 }'
		;;
	esac
}

# check NAME PORT CLIENT fetches once (a warm-up) and checks the content.
check() {
	fetch "$2" "$3" >/dev/null
	if [[ $(sha256sum <"$work/out" | cut -d' ' -f1) != "$want" ]]; then
		echo "bench.sh: $1 via $3: wrong content" >&2
		exit 1
	fi
}

# summary NAME CLIENT FILE prints the median, min and max of the speeds in
# FILE and appends the median to $work/medians.
summary() {
	sort -n "$3" | awk -v name="$1" -v client="$2" -v out="$work/medians" '
		{ v[NR] = $1 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-22s %-14s median %7.1f MB/s  (min %.1f, max %.1f, %d runs)\n", name, client, med, v[1], v[NR], NR
			print med >>out
		}'
}

echo "file: $SIZE_MIB MiB, blksize $BLKSIZE, $RUNS runs each, 127.0.0.1; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
check "tools/tftpd" "$port_ours" curl
if [[ $have_hpa == yes ]]; then
	check "in.tftpd" "$port_hpa" curl
fi
# Alternate the servers run by run, so that changes in machine load hit
# both alike.
for ((i = 0; i < RUNS; i++)); do
	fetch "$port_ours" curl >>"$work/ours.curl"
	if [[ $have_hpa == yes ]]; then
		fetch "$port_hpa" curl >>"$work/hpa.curl"
	fi
done
summary "tools/tftpd" curl "$work/ours.curl"
if [[ $have_hpa == yes ]]; then
	summary "in.tftpd (tftpd-hpa)" curl "$work/hpa.curl"
	awk 'NR <= 2 { m[NR] = $1 } END { printf "ratio tools/tftpd / in.tftpd (curl, median): %.2f\n", m[1] / m[2] }' "$work/medians"
fi
if command -v atftp >/dev/null; then
	# tftpd-hpa 5.2 does not implement windowsize (RFC 7440).
	check "tools/tftpd" "$port_ours" atftp-window8
	for ((i = 0; i < RUNS; i++)); do
		fetch "$port_ours" atftp-window8 >>"$work/ours.atftp"
	done
	summary "tools/tftpd" atftp-window8 "$work/ours.atftp"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
