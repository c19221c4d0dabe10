#!/usr/bin/env bash
# fetch-sources.sh must fail, naming the package and version, when a pinned
# source cannot be fetched, and must reject a malformed lock file. The first
# case asks the machine's apt mirror (the same one ./bazelw uses).
set -uo pipefail
fetch=$1
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fail=0

expect_failure() { # name lock pattern...
  local name=$1 lock=$2 out
  shift 2
  out=$(bash "$fetch" "$lock" "$tmp/$name" 2>&1)
  if [ $? -eq 0 ]; then
    echo "FAIL $name: fetch-sources.sh succeeded"; fail=1; return
  fi
  for pattern in "$@"; do
    if ! grep -qF -- "$pattern" <<<"$out"; then
      echo "FAIL $name: output lacks \"$pattern\":"; echo "$out"; fail=1; return
    fi
  done
  echo "ok $name"
}

cat >"$tmp/malformed.lock" <<'LOCK'
musl musl 1.2.5-3.1~deb13u1 musl_1.2.5.orig.tar.gz
LOCK
expect_failure malformed "$tmp/malformed.lock" 'entry "musl"' "want 'name package version file sha256'"

cat >"$tmp/missing.lock" <<'LOCK'
busybox busybox 1:0.0.1-99 busybox_0.0.1.orig.tar.bz2 0000000000000000000000000000000000000000000000000000000000000000
LOCK
expect_failure missing-version "$tmp/missing.lock" "source package busybox version 1:0.0.1-99" "cannot be fetched"

# Binary packages (a .deb file): a version the mirror lacks, a sha256
# that does not match, and one that fetches.
cat >"$tmp/missing-deb.lock" <<'LOCK'
tftpd-hpa tftpd-hpa 0.1-99 tftpd-hpa_0.1-99_amd64.deb 0000000000000000000000000000000000000000000000000000000000000000
LOCK
expect_failure missing-deb "$tmp/missing-deb.lock" "binary package tftpd-hpa version 0.1-99" "cannot be fetched"

cat >"$tmp/bad-sum.lock" <<'LOCK'
tftpd-hpa tftpd-hpa 5.2+20150808-1.4 tftpd-hpa_5.2+20150808-1.4_amd64.deb 0000000000000000000000000000000000000000000000000000000000000000
LOCK
expect_failure bad-sum "$tmp/bad-sum.lock" "tftpd-hpa_5.2+20150808-1.4_amd64.deb of tftpd-hpa 5.2+20150808-1.4 has sha256" "pins 0000"

grep '^tftpd-hpa ' "$(dirname "$fetch")/sources.lock" >"$tmp/deb.lock"
if bash "$fetch" "$tmp/deb.lock" "$tmp/deb" && [ -s "$tmp/deb/tftpd-hpa_5.2+20150808-1.4_amd64.deb" ]; then
  echo "ok deb"
else
  echo "FAIL deb: the pinned tftpd-hpa package was not fetched"; fail=1
fi

exit $fail
