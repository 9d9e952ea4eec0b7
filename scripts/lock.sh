#!/usr/bin/env bash
# Re-solve requirements.lock from pyproject.toml (uv solves this stack in seconds; pip does not).
# CUDA-only packages are dropped: the project runs torch on the CPU, and installing with
# --no-deps from this lock never pulls the multi-GB CUDA stack.
set -euo pipefail
cd "$(dirname "$0")/.."
# Start from the current pins: uv keeps them unless the new requirements need a change.
cp requirements.lock requirements.lock.tmp
uv pip compile pyproject.toml --extra dev --extra eval --python-version 3.11 \
  --python-platform x86_64-unknown-linux-gnu --no-header --no-annotate -o requirements.lock.tmp >/dev/null
grep -v -E '^(nvidia-|triton==|cuda-)' requirements.lock.tmp > requirements.lock
rm -f requirements.lock.tmp
echo "requirements.lock: $(grep -c '==' requirements.lock) pins"
