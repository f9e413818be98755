"""Correctness under load and under faults, with real processes on PostgreSQL and Redis.

- 3 workers and 2 API processes deliver 20,000 alerts; one worker is killed with SIGKILL in the
  middle. Every alert reaches the stand-in exactly once, except rows in flight at the kill: those
  are recovered as `unknown` after the heartbeat timeout and reconciled from their status webhook
  (they had arrived) or left `unknown` (they had not); none arrives twice. In no second does the
  number receive more than its rate.
- PostgreSQL is restarted in the middle of a burst: the workers reconnect and finish, every alert
  arrives exactly once, and every row is accounted for (sent, or `unknown` and reconciled).

`LOKET_LOAD_ALERTS` makes the first test smaller (e.g. on a busy development machine).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from outbound_e2e import (
    alert_events,
    busiest_second,
    delivered,
    post_events,
    start_stack,
    states,
    wait_settled,
    wait_state,
)

from loket.config import Settings

pytestmark = pytest.mark.e2e

ALERTS = int(os.environ.get("LOKET_LOAD_ALERTS", "20000"))
RATE = 400  # the number's messages per second: 20,000 alerts in about a minute at full speed


def postgres_only(settings: Settings) -> str:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        pytest.skip("several workers and API processes share the work on PostgreSQL; SQLite is one process")
    return url


async def test_three_workers_and_two_apis_deliver_every_alert_once_within_the_rate(
    settings: Settings, tmp_path: Path
) -> None:
    url = postgres_only(settings)
    stack = await start_stack(url, tmp_path, apis=2, workers=3, rate=RATE)
    try:
        assert await post_events(stack, alert_events("load", ALERTS)) == ALERTS
        await wait_state(url, "load", ALERTS // 4, timeout=ALERTS / 20 + 60)
        stack.workers[0].send_signal(signal.SIGKILL)
        in_flight = (await states(url, "load")).get("sending", 0)
        settled = await wait_settled(url, "load", timeout=ALERTS / 20 + 120)
        arrived = await delivered(stack, "load")
        busiest = await busiest_second(stack)
    finally:
        stack.stop()
    assert max(arrived.values()) == 1, "no alert reached the phone twice"
    unknown = settled.get("unknown", 0)
    assert settled.get("sent", 0) + unknown == ALERTS, settled
    assert settled.get("sent", 0) == len(arrived), "every arrived alert is settled as sent (reconciled)"
    assert unknown <= max(in_flight, 64), f"only rows claimed at the kill may stay unknown: {unknown} > {in_flight}"
    assert busiest <= RATE, f"{busiest} messages in one second, over the number's {RATE}/s"


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "--", "-m", "fast"],
        check=True,
        timeout=120,
    )


async def test_postgresql_restarted_mid_burst_loses_and_duplicates_nothing(settings: Settings, tmp_path: Path) -> None:
    url = postgres_only(settings)
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir() or os.geteuid() != 0:  # noqa: ASYNC240
        pytest.skip("restarting PostgreSQL needs the Debian cluster tools and root (as on CI)")
    count = min(ALERTS, 3000)
    stack = await start_stack(url, tmp_path, apis=1, workers=2, rate=RATE)
    try:
        assert await post_events(stack, alert_events("restart", count)) == count
        await wait_state(url, "restart", count // 4, timeout=count / 20 + 60)
        await asyncio.to_thread(restart_postgresql)
        settled = await wait_settled(url, "restart", timeout=count / 20 + 180)
        arrived = await delivered(stack, "restart")
        alive = [proc.poll() is None for proc in stack.procs]
    finally:
        stack.stop()
    assert all(alive), "every process survived the restart"
    assert max(arrived.values()) == 1, "no alert reached the phone twice"
    assert settled.get("sent", 0) + settled.get("unknown", 0) == count, settled
    assert settled.get("sent", 0) == len(arrived), "every arrived alert is settled as sent"
    assert len(arrived) == count, f"{count - len(arrived)} alerts never arrived"
