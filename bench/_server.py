"""A throwaway install for the page benchmarks: a temporary METROPOLE_VAR_DIR with the
static files collected, a database (SQLite in that directory, or a throwaway PostgreSQL
on loopback) prepared with migrate / createcachetable / load_demo, and gunicorn serving
it with DJANGO_DEBUG=0. Everything is removed on exit.
"""

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, postgres_bin

VENV_BIN = Path(sys.executable).parent
PRODUCTION_SETTINGS = "metropole.settings"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command, env, what, cwd=ROOT, timeout=600):
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


class Postgres:
    """A PostgreSQL cluster in a temporary directory, on 127.0.0.1, fsync off."""

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="metropole-bench-pg-"))
        self.data = self.directory / "data"
        self.as_user = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as `postgres`
            shutil.chown(self.directory, user="postgres", group="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.version = ""

    def _bin(self, name):
        path = postgres_bin(name)
        if not path:
            raise RuntimeError(f"PostgreSQL's {name} was not found (PATH, /usr/lib/postgresql)")
        return path

    def start(self) -> str:
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        _run(
            [
                *self.as_user,
                self._bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            env,
            "initdb",
            cwd=self.directory,
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        _run(
            [
                *self.as_user,
                self._bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "-o",
                options,
                "start",
            ],
            env,
            "pg_ctl start",
            cwd=self.directory,
        )
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE metropole")
            self.version = conn.execute("SHOW server_version").fetchone()[0]
        return f"postgres://postgres@127.0.0.1:{self.port}/metropole"

    @property
    def pid(self) -> int:
        """The postmaster's pid (first line of postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def cpu_snapshot(self) -> dict[int, int]:
        """CPU ticks used so far by the postmaster and its backends."""
        return tree_ticks(self.pid)

    def stop(self):
        if self.data.exists():
            subprocess.run(
                [
                    *self.as_user,
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                cwd=self.directory,
                capture_output=True,
                timeout=120,
                check=False,
            )
        shutil.rmtree(self.directory, ignore_errors=True)


class Site:
    """A prepared install; `database` is "sqlite" or "postgresql"."""

    def __init__(self, database: str = "sqlite", log=print):
        self.database = database
        self.log = log
        self.var_dir = None
        self.postgres = None
        self.settings_module = PRODUCTION_SETTINGS
        self.env = {}

    def __enter__(self):
        self.var_dir = Path(tempfile.mkdtemp(prefix="metropole-bench-var-"))
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "METROPOLE_TESTING"}
        }
        env.update(
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # throwaway
            METROPOLE_VAR_DIR=str(self.var_dir),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            PYTHONPATH=str(ROOT),
        )
        try:
            if self.database == "postgresql":
                self.postgres = Postgres()
                env["DATABASE_URL"] = self.postgres.start()
            self.env = env
            self._prepare()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.postgres:
            self.postgres.stop()
        if self.var_dir:
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def manage(self, *args, settings=None, timeout=600):
        env = {**self.env, "DJANGO_SETTINGS_MODULE": settings or self.settings_module}
        return _run(
            [sys.executable, "manage.py", *args],
            env,
            "manage.py " + " ".join(args),
            timeout=timeout,
        )

    def _prepare(self):
        started = time.perf_counter()
        self.manage("collectstatic", "--no-input", "-v0")
        self.manage("migrate", "--no-input", "-v0")
        self.manage("createcachetable")
        self.manage("load_demo")
        self.log(f"  {self.database}: prepared in {time.perf_counter() - started:.1f} s")

    def static_url(self, name: str) -> str:
        """The URL pages use for a static file (the hashed name from the manifest)."""
        manifest = json.loads((self.var_dir / "static" / "staticfiles.json").read_text())
        return "/static/" + manifest["paths"][name]

    def python(self, script: str, *args, timeout=600) -> str:
        """Runs a bench script in this install's environment and returns its stdout."""
        env = {**self.env, "DJANGO_SETTINGS_MODULE": self.settings_module}
        return _run(
            [sys.executable, str(ROOT / "bench" / script), *args], env, script, timeout=timeout
        ).stdout

    @contextlib.contextmanager
    def serve(self, workers: int = 2, threads: int = 4):
        """gunicorn on 127.0.0.1; yields the Server once /health/ answers."""
        port = free_port()
        access_log = self.var_dir / f"access-{port}.log"
        error_log = self.var_dir / f"error-{port}.log"
        env = {**self.env, "DJANGO_SETTINGS_MODULE": self.settings_module}
        command = [
            str(VENV_BIN / "gunicorn"),
            "metropole.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
            "--error-logfile",
            str(error_log),
        ]
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = Server(port, access_log, error_log, workers, threads, process.pid)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError("gunicorn exited:\n" + error_log.read_text()[-3000:])
                with contextlib.suppress(OSError):
                    if server.get("/health/")[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer /health/ within 60 s")
                time.sleep(0.2)
            yield server
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful stop of the master we started
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)  # its own session, started above
                    process.wait()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_ticks(pid: int) -> tuple[int, int]:
    """(parent pid, utime + stime in clock ticks) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def system_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def tree_ticks(root: int) -> dict[int, int]:
    """CPU clock ticks used so far by a process and each of its live children, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, used = _process_ticks(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
        if int(entry.name) == root or ppid == root:
            found[int(entry.name)] = used
    return found


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two `tree_ticks` snapshots by the processes alive at the end
    (a child that exited meanwhile is not counted; a new one counts in full)."""
    return sum(max(0, used - before.get(pid, 0)) for pid, used in after.items()) / CLOCK_TICKS


class Server:
    def __init__(self, port, access_log, error_log, workers, threads, pid):
        self.pid = pid
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.access_log = access_log
        self.error_log = error_log
        self.workers = workers
        self.threads = threads

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def cpu_snapshot(self) -> dict[int, int]:
        """CPU ticks used so far by the gunicorn master and its workers."""
        return tree_ticks(self.pid)

    def log_position(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def server_times_ms(self, since: int, path: str) -> tuple[list[float], int]:
        """Request times (ms) gunicorn logged for `path` after byte `since`, and non-200s."""
        times, bad = [], 0
        with open(self.access_log, "rb") as f:
            f.seek(since)
            for line in f.read().decode("utf-8", "replace").splitlines():
                parts = line.split()
                if len(parts) != 3 or parts[0] != path:
                    continue
                if parts[1] != "200":
                    bad += 1
                times.append(int(parts[2]) / 1000)
        return times, bad
