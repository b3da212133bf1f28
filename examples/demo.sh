#!/usr/bin/env bash
# The main job: set up this machine, then show pycompose on the web + db example stack.
# Stage: the loader is in place, so this prints the resolved stack (`pycompose config`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
export PATH="$PWD/.venv/bin:$PATH"
echo "== pycompose config (examples/stacks/web-db)"
WEB_IMAGE=127.0.0.1:5000/python:3.11 REDIS_IMAGE=127.0.0.1:5000/redis:7 \
  pycompose -f examples/stacks/web-db/compose.yaml config
