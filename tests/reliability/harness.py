"""Real processes for the fault tests: the site under gunicorn, Celery workers, a private Redis, a cuttable
link to PostgreSQL. Each test gets its own, so stopping one never disturbs another test (or xdist worker).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll until check() is truthy; returns its value, or None after the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    return None


def database_url(*, host: str | None = None, port: int | None = None) -> str:
    """The URL of this test's database (pytest-django's test_… database), optionally through another port."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{host or db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.server_settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "",
        "SECRET_KEY": "fault-tests-" + "k" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(overrides)
    return env


def stop(process: subprocess.Popen[str], *, timeout: float = 20) -> str:
    """Terminate a process group politely, then firmly; return the end of what it printed."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    return output_of(process)


def output_of(process: subprocess.Popen[str]) -> str:
    log = getattr(process, "log_path", None)
    return Path(log).read_text(errors="replace")[-6000:] if log else ""


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    # Output to a file, never an unread pipe (a full pipe blocks the server's logging, and so its requests);
    # a process group of its own, so a kill reaches gunicorn's or Celery's children too.
    log = tempfile.NamedTemporaryFile(prefix="fault-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    log.close()
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


class Site:
    """The product under gunicorn (2 workers × 8 threads), as deployed, on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            env,
        )

    def wait_ready(self) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{stop(self.process)}")
            try:
                return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        if not wait_for(up, timeout=60):
            raise RuntimeError(f"gunicorn did not answer:\n{stop(self.process)}")

    def login(self, username: str, password: str) -> requests.Session:
        """A browser-like session: fetch the form for its CSRF cookie, post, follow the redirect."""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=10)
        response = session.post(
            f"{self.url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{self.url}/accounts/login/"},
            timeout=10,
        )
        assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
        return session


@contextmanager
def serve(**env_overrides: str) -> Iterator[Site]:
    site = Site(process_env(**env_overrides))
    try:
        site.wait_ready()
        yield site
    finally:
        stop(site.process)


class RedisServer:
    """A private redis-server on its own port: stopped and started again by the test, nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self.process = spawn(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            dict(os.environ),
        )
        if not wait_for(self.ping, timeout=20, interval=0.1):
            raise RuntimeError("private redis-server did not start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Worker:
    """`celery worker` on a queue of its own, on this test's database."""

    def __init__(self, env: dict[str, str], queue: str, *, pool: str = "solo") -> None:
        self.queue = queue
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "-Q", queue]
        args += ["--concurrency=1", "--loglevel=INFO", f"--hostname={queue}-{uuid.uuid4().hex[:6]}@%h"]
        self.process = spawn(args, env)

    def children(self) -> list[int]:
        """PIDs of the prefork pool's child processes."""
        result = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker: no chance to acknowledge, requeue or clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        return stop(self.process)


class TcpProxy:
    """A loopback TCP relay in front of PostgreSQL. `outage()` drops every connection and refuses new ones,
    as a restarting server does, without touching the PostgreSQL that other tests use."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepting = True
        self.links: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()  # connection refused, as while PostgreSQL is down
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.links.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            for sock in sockets:
                with suppress(OSError):
                    sock.close()

    def outage(self) -> None:
        self.accepting = False
        with self.lock:
            links, self.links = self.links, []
        for pair in links:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass

    def recover(self) -> None:
        self.accepting = True

    def close(self) -> None:
        self.closed = True
        self.outage()
        self.listener.close()
