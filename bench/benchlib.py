"""Shared plumbing for the benchmarks: temporary databases, server processes, wrk runs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("LOKET_BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
MASTER_KEY = base64.urlsafe_b64encode(b"b" * 32).decode()
APP_SECRET = "bench-app-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def temp_database(backend: str) -> Iterator[str]:
    """A fresh, empty database URL for `backend` (sqlite or postgresql), removed afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="loket-bench-")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"loket_bench_{os.getpid()}_{int(time.time())}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield PG_ADMIN.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def loket_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LOKET_DATABASE_URL=database_url,
        LOKET_META_APP_SECRET=APP_SECRET,
        LOKET_WEBHOOK_VERIFY_TOKEN="bench-verify",
        LOKET_MASTER_KEY=MASTER_KEY,
        LOKET_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextlib.contextmanager
def server(
    argv: list[str], port: int, env: dict[str, str] | None = None, ready_path: str = "/readyz"
) -> Iterator[None]:
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"server {argv[:3]} did not start: {err[-2000:]}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path, *, duration: float, connections: int, threads: int = 1) -> WrkResult:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run `make bench` (it installs Debian's wrk) or apt-get install wrk")
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        rps, p50, p99, total, int(non2xx.group(1)) if non2xx else 0, sum(map(int, errors.groups())) if errors else 0
    )
