#!/bin/sh
# Runs the task worker in the background and the web server in the foreground, and
# stops the worker when the server stops (Ctrl-C). Used by `make run`.
set -e
HOST="${METROPOLE_HOST:-127.0.0.1}"
PORT="${METROPOLE_PORT:-8000}"
VENV="${VENV:-.venv}"
VAR="${METROPOLE_VAR_DIR:-var}"
"$VENV/bin/python" manage.py db_worker --queue-name '*' >>"$VAR/worker.log" 2>&1 &
WORKER=$!
"$VENV/bin/python" manage.py run_scheduler >>"$VAR/scheduler.log" 2>&1 &
SCHEDULER=$!
trap 'kill $WORKER $SCHEDULER 2>/dev/null' EXIT INT TERM
echo ""
echo "  Métropole is served at http://$HOST:$PORT/"
sed 's/^/  Demo /' "$VAR/demo-credentials.txt"
echo "  Background task worker: pid $WORKER. E-mails (e.g. sign-up links) are written to $VAR/worker.log"
echo "  Periodic jobs (reminders, pulls, indicators): pid $SCHEDULER, log in $VAR/scheduler.log"
echo ""
"$VENV/bin/python" manage.py runserver "$HOST:$PORT" --noreload
