#!/bin/sh
# Runs the task worker and the scheduler in the background, then the web server, and prints
# the address once the server answers (so that the first click works). Ctrl-C stops all three.
# Used by `make run`; METROPOLE_HOST / METROPOLE_PORT choose where it listens.
set -e
HOST="${METROPOLE_HOST:-127.0.0.1}"
PORT="${METROPOLE_PORT:-8000}"
VENV="${VENV:-.venv}"
VAR="${METROPOLE_VAR_DIR:-var}"
"$VENV/bin/python" manage.py db_worker --queue-name '*' >>"$VAR/worker.log" 2>&1 &
WORKER=$!
"$VENV/bin/python" manage.py run_scheduler >>"$VAR/scheduler.log" 2>&1 &
SCHEDULER=$!
"$VENV/bin/python" manage.py runserver "$HOST:$PORT" --noreload &
SERVER=$!
trap 'kill $SERVER $WORKER $SCHEDULER 2>/dev/null' EXIT INT TERM
# Wait (at most a minute) until the server accepts connections, or stop if it died.
"$VENV/bin/python" - "$HOST" "$PORT" "$SERVER" <<'PY'
import os, socket, sys, time
host, port, server = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(600):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        try:
            os.kill(server, 0)
        except OSError:
            sys.exit("The web server stopped before answering: see the lines above.")
        time.sleep(0.1)
sys.exit(f"The web server did not answer on {host}:{port} within a minute.")
PY
echo ""
echo "  Métropole is served at http://$HOST:$PORT/  (Ctrl-C to stop)"
sed 's/^/  Demo /' "$VAR/demo-credentials.txt"
echo "  Background task worker: pid $WORKER. E-mails (e.g. sign-up links) are written to $VAR/worker.log"
echo "  Periodic jobs (reminders, pulls, indicators): pid $SCHEDULER, log in $VAR/scheduler.log"
echo ""
wait $SERVER
