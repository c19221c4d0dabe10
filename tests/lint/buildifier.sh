#!/usr/bin/env bash
# Runs buildifier in fix mode over the workspace: bazel run //:buildifier
set -euo pipefail
buildifier=$(readlink -f "$1")
cd "${BUILD_WORKSPACE_DIRECTORY:?run this with bazel run}"
exec "$buildifier" -mode=fix -lint=fix -r .
