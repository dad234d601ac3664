#!/usr/bin/env bash
# A clean install from requirements.txt alone (what the Dockerfile does) must start the
# Celery worker, the publisher and beat on a Redis broker. `make test` cannot show this:
# the dev requirements pull in more. Each process runs a few seconds; the worker and the
# publisher must answer a ping, beat must send its first tick, and none may exit early.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="$(mktemp -d)/venv"
LOGS="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$(dirname "$VENV")"' EXIT

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -r requirements.txt

export DEBUG=0 SECRET_KEY=install-check-not-secret-0123456789abcdefghijklmnopqrstuv
export TOKEN_ENCRYPTION_KEYS=emfH6vZCcS1xYJb2wvr50lkAHlARaBsOdt2RTdJtwF4=
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/advocacy}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/1}"
export CELERY_BROKER_URL="redis://127.0.0.1:6379/9"  # a database of its own: no other test's messages
export ALLOWED_HOSTS=localhost SITE_URL=http://localhost
CELERY="$VENV/bin/celery"
NAME="install-check-$$"

"$CELERY" -A advocacy worker -Q default,metrics --pool=solo -n "worker-$NAME@%h" -l info >"$LOGS/worker" 2>&1 &
"$CELERY" -A advocacy worker -Q publish --pool=threads --concurrency=2 -n "publisher-$NAME@%h" -l info \
  >"$LOGS/publisher" 2>&1 &
"$CELERY" -A advocacy beat -l info --schedule "$LOGS/beat-schedule" >"$LOGS/beat" 2>&1 &

ok=""
for _ in $(seq 1 60); do
  if "$CELERY" -A advocacy inspect ping -t 2 -d "worker-$NAME@$(hostname),publisher-$NAME@$(hostname)" \
      2>/dev/null | grep -c "pong" | grep -q "^2$" && grep -q "Sending due task\|beat: Starting" "$LOGS/beat"; then
    ok=1
    break
  fi
  sleep 1
done
for process in worker publisher beat; do
  if grep -q "Traceback\|ModuleNotFoundError\|ImportError" "$LOGS/$process"; then
    echo "install check: the $process failed to start from requirements.txt alone:" >&2
    tail -30 "$LOGS/$process" >&2
    exit 1
  fi
done
if [ -z "$ok" ]; then
  echo "install check: the worker, publisher and beat did not all come up on Redis within 60 s" >&2
  tail -20 "$LOGS"/* >&2
  exit 1
fi
sleep 3  # a few seconds more: still alive?
for job in $(jobs -p); do
  kill -0 "$job" 2>/dev/null || { echo "install check: a process exited early" >&2; tail -20 "$LOGS"/* >&2; exit 1; }
done
echo "install check: worker, publisher and beat run on Redis from requirements.txt alone"
