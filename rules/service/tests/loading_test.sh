#!/usr/bin/env bash
# Unknown attributes and values of the wrong type are errors when Bazel
# loads the BUILD file, before analysis, so analysistest cannot see them; so
# is a macro's fail(), such as firmware()'s refusal of a name it gives a
# target of its own. This test loads BUILD files with such services and such
# a firmware() in a scratch workspace that uses this one as @bazwrt, with a
# Bazel of its own, and checks the messages name the target and the
# attribute.
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
# firmware() makes a target "kernel" itself: name = "kernel" is refused by
# name, before the two targets collide.
mkdir -p "$tmp/ws/firmware"
cat >"$tmp/ws/firmware/BUILD" <<'BUILD'
load("@bazwrt//rules/firmware:defs.bzl", "firmware")

firmware(
    name = "kernel",
    device = ":device",
    hostname = "x",
    kernel_fragments = [],
    platform = ":platform",
)
BUILD
out=$(cd "$tmp/ws" && HOME="$tmp" bazel --output_user_root="$tmp/root" --batch query //firmware:all 2>&1)
rc=$?
want='firmware kernel: name "kernel" is one of the targets firmware() makes'
if [ $rc -eq 0 ]; then
  echo "FAIL: bazel query succeeded on firmware(name = \"kernel\"):"; echo "$out"; fail=1
elif grep -qF -- "$want" <<<"$out"; then
  echo "ok: $want"
else
  echo "FAIL: missing \"$want\" in:"; echo "$out"; fail=1
fi
rm -rf "$tmp"
exit $fail
