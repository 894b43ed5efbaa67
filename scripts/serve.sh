#!/usr/bin/env bash
# Start the task worker and the web server (granian); stop both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
HOST="${YIWANG_HOST:-127.0.0.1}"
export YIWANG_DEMO="${YIWANG_DEMO:-1}"

.venv/bin/python manage.py worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

.venv/bin/python manage.py demo_banner --url "http://${HOST}:${PORT}/"
exec_status=0
# Two Python threads per worker: enough to overlap a slow request, few enough that the
# GIL is not passed around (granian's default allows hundreds; docs/benchmarks.md).
# bench/run.py reads the thread count from this line.
.venv/bin/granian --interface wsgi --host "$HOST" --port "$PORT" --workers 2 --blocking-threads 2 \
  --log-level warning yiwang.wsgi:application || exec_status=$?
exit $exec_status
