#!/usr/bin/env bash
# Unknown attributes and values of the wrong type are errors when Bazel
# loads the BUILD file, before analysis, so analysistest cannot see them. This
# test loads a BUILD file with such services in a scratch workspace that uses
# this one as @bazwrt, with a Bazel of its own, and checks the messages name
# the target and the attribute.
set -uo pipefail
ws=$(dirname "$(readlink -f "$TEST_SRCDIR/$TEST_WORKSPACE/WORKSPACE")")
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/loading.XXXXXX")
mkdir -p "$tmp/ws"
cat >"$tmp/ws/WORKSPACE" <<WS
local_repository(name = "bazwrt", path = "$ws")
WS
cat >"$tmp/ws/BUILD" <<'BUILD'
load("@bazwrt//rules/service:defs.bzl", "longrun", "oneshot")

oneshot(name = "unknown-attribute", up = "true", restart_policy = "always")

longrun(name = "wrong-type", run = "exec sleep 1", timeout_up = "5s")

oneshot(name = "good", up = "true")
BUILD
out=$(cd "$tmp/ws" && HOME="$tmp" bazel --output_user_root="$tmp/root" --batch query //:all 2>&1)
rc=$?
fail=0
if [ $rc -eq 0 ]; then
  echo "FAIL: bazel query succeeded on bad services:"; echo "$out"; exit 1
fi
for want in \
  "//:unknown-attribute: no such attribute 'restart_policy' in 'oneshot' rule" \
  "//:wrong-type: expected value of type 'int' for attribute 'timeout_up' in 'longrun' rule"; do
  if grep -qF -- "$want" <<<"$out"; then
    echo "ok: $want"
  else
    echo "FAIL: missing \"$want\" in:"; echo "$out"; fail=1
  fi
done
if grep -q "//:good" <<<"$out"; then
  echo "FAIL: the good service was reported:"; echo "$out"; fail=1
fi
rm -rf "$tmp"
exit $fail
