"""What the benchmark starts and must stop: databases, gunicorn, in-process workers.

Everything started here is recorded in a ``Stack`` and undone by ``Stack.close()``,
which bench/run.py calls on the way out, on Ctrl-C and on errors alike.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
# The only databases the bench ever creates or drops.
BENCH_DATABASES = ("easeback_bench_full", "easeback_bench_one")
# The bench's own Redis databases, one per PostgreSQL database (their user ids overlap),
# flushed at the start of every run; tests use 5, and 0 is left to whoever else uses Redis.
BENCH_REDIS = "redis://127.0.0.1:6379/"
BENCH_REDIS_DBS = {"easeback_bench_full": 7, "easeback_bench_one": 8}


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, *, keep: bool = False, redis: bool = True):
        self.keep = keep
        self.redis = redis
        self.redis_url = self.redis_for("easeback_bench_full")
        self.flush_redis()
        self.temp = Path(tempfile.mkdtemp(prefix="easeback-bench-"))
        self.static_root = self.temp / "static"
        self.databases: list[str] = []
        self.processes: list[subprocess.Popen] = []

    def redis_for(self, database: str) -> str | None:
        return f"{BENCH_REDIS}{BENCH_REDIS_DBS[database]}" if self.redis else None

    def flush_redis(self) -> None:
        if self.redis:
            import redis as redis_py

            try:
                for database in BENCH_REDIS_DBS:
                    redis_py.Redis.from_url(self.redis_for(database)).flushdb()
            except redis_py.RedisError as error:
                raise SystemExit(
                    f"The bench runs with the shared cache at {self.redis_url} ({error}); start "
                    "Redis (redis-server --daemonize yes --port 6379 --save '' --appendonly no) "
                    "or pass --no-redis."
                ) from None

    # --- environment -----------------------------------------------------------------

    def env(self, database: str, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "AXES_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            EASEBACK_BENCH_STATIC_ROOT=str(self.static_root),
            DATABASE_URL=database_url(database),
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        if self.redis:
            env["REDIS_URL"] = self.redis_for(database)
        else:
            env.pop("REDIS_URL", None)
        env.update(extra)
        return env

    def manage(self, database: str, *args: str) -> str:
        result = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            # Seeding a million rows takes longer than a page's query limit.
            env=self.env(database, DJANGO_DB_STATEMENT_TIMEOUT_MS="0"),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # --- databases -------------------------------------------------------------------

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str) -> None:
        assert name in BENCH_DATABASES, name
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)

    def drop_databases(self) -> None:
        if not self.databases:
            return
        with self.admin() as conn:
            for name in self.databases:
                assert name in BENCH_DATABASES, name
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()

    # --- processes -------------------------------------------------------------------

    def spawn(
        self, args: list[str], *, database: str, env_extra: dict | None = None, **kwargs
    ) -> subprocess.Popen:
        # A new session per child: stopping it stops its own workers and nothing else.
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(database, **(env_extra or {})),
            start_new_session=True,
            **kwargs,
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 10) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        for stream in (process.stdin, process.stdout):
            if stream:
                stream.close()
        if process in self.processes:
            self.processes.remove(process)

    def gunicorn(
        self, database: str, *, workers: int | None = None, threads: int | None = None
    ) -> Gunicorn:
        port = free_port()
        log = self.temp / f"gunicorn-{port}.log"
        # The Dockerfile's command (its config file: workers, threads, hooks, timeouts),
        # minus the access log (it would time the terminal).
        args = [
            str(GUNICORN),
            "--config",
            "deploy/gunicorn.conf.py",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            # Unless given, the config file's workers and threads, as in the image.
            *(["--workers", str(workers)] if workers is not None else []),
            *(["--threads", str(threads)] if threads is not None else []),
            "--error-logfile",
            str(log),
            "--log-level",
            "warning",
        ]
        process = self.spawn(
            args,
            database=database,
            stdout=subprocess.DEVNULL,
            env_extra={"GUNICORN_ACCESS_LOG": ""},
        )
        server = Gunicorn(process, port, log)
        server.wait_ready()
        return server

    def worker(self, database: str) -> Worker:
        process = self.spawn(
            [str(PYTHON), "-m", "bench.worker"],
            database=database,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return Worker(process)

    def close(self) -> None:
        for process in list(self.processes):
            self.stop(process)
        if not self.keep:
            self.drop_databases()
            shutil.rmtree(self.temp, ignore_errors=True)


class Gunicorn:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.errors()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{self.errors()}")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def errors(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Worker:
    """A Django process driven over stdin/stdout, one JSON command per line."""

    def __init__(self, process: subprocess.Popen):
        self.process = process

    def call(self, command: str, **arguments):
        self.process.stdin.write(json.dumps({"command": command, **arguments}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench worker died during {command!r}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"bench worker: {answer['error']}")
        return answer["result"]


def need_wrk() -> str:
    """The wrk binary; installed with apt-get when missing and we may, else a clear error."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing it with apt-get ...", file=sys.stderr)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, **quiet).returncode:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, **quiet)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, **quiet)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "The load test needs wrk. Install it (Debian/Ubuntu: 'sudo apt-get install wrk', "
            "macOS: 'brew install wrk') and run 'make bench' again."
        )
    return found
