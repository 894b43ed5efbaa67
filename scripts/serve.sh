#!/usr/bin/env bash
# Start the task worker and the web server (granian); Ctrl-C or SIGTERM stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
HOST="${YIWANG_HOST:-127.0.0.1}"
export YIWANG_DEMO="${YIWANG_DEMO:-1}"

.venv/bin/python manage.py worker &
WORKER=$!
WEB=""
stop() { kill $WORKER $WEB 2>/dev/null || true; }
trap stop EXIT INT TERM

.venv/bin/python manage.py demo_banner --url "http://${HOST}:${PORT}/"
# More Python threads than this per worker only add GIL contention (docs/benchmarks.md).
.venv/bin/granian --interface wsgi --host "$HOST" --port "$PORT" --workers 2 --blocking-threads 2 \
  --log-level warning yiwang.wsgi:application &
WEB=$!
# In the background, so a trapped SIGTERM is handled at once instead of after granian exits.
wait $WEB
