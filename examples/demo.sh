#!/usr/bin/env bash
# The main job: set up this machine, then run the web + db example stack with pycompose
# (no container engine) and show it answering.
#   1. .ci/setup: apt packages + .venv with pycompose
#   2. build small real images from Debian packages and serve them from a local registry
#      on 127.0.0.1:5000 (there is no Docker Hub here)
#   3. pycompose up -d --wait: builds the web image from app/Dockerfile (no Docker: pycompose's
#      own builder), then redis (healthchecked, named volume) + the Python web app that finds
#      redis through Docker link variables; curl it twice (greeting + visit counter)
#   4. pycompose build again: every step CACHED; pycompose ps, and how to stop it
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
export PATH="$PWD/.venv/bin:$PATH"
PY="$PWD/.venv/bin/python"
PORT=${REGISTRY_PORT:-5000}
STACK=examples/stacks/web-db/compose.yaml

serves_ours() {
  curl -fsS -o /dev/null "http://127.0.0.1:$1/v2/redis/manifests/7" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' 2>/dev/null
}
if serves_ours "$PORT"; then
  echo "== test images: a registry already serves them on 127.0.0.1:$PORT"
else
  if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$PORT))!=0)"; then
    taken=$PORT
    PORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
    echo "(127.0.0.1:$taken is taken by another program: the registry uses $PORT)"
  fi
  echo "== test images from Debian packages, served on 127.0.0.1:$PORT"
  "$PY" -m tests.images build >/dev/null
  "$PY" -m tests.images serve --port "$PORT" >/dev/null
fi
REGISTRY=127.0.0.1:$PORT
export WEB_IMAGE=$REGISTRY/python:3.11 REDIS_IMAGE=$REGISTRY/redis:7

echo "== pycompose -f $STACK up -d --wait   (builds the web image first)"
pycompose -f "$STACK" up -d --wait --wait-timeout 120

echo "== curl http://127.0.0.1:8000/ (twice)"
for _ in $(seq 1 50); do
  curl -fsS -m 3 http://127.0.0.1:8000/ 2>/dev/null && break
  sleep 0.2
done
curl -fsS -m 3 http://127.0.0.1:8000/

echo "== pycompose -f $STACK build   (nothing changed: every step is CACHED)"
pycompose -f "$STACK" build --progress plain

echo "== pycompose ps"
pycompose -f "$STACK" ps

cat <<EOF

The stack keeps running (a detached pycompose supervisor watches it).
pycompose is installed in .venv: first  export PATH="$PWD/.venv/bin:\$PATH"
  logs:  pycompose -f $STACK logs -f
  stop:  pycompose -f $STACK down
         (add -v to also delete the redis-data volume; the visit counter survives a plain down)
  registry: $PY -m tests.images stop
EOF
