"""End to end with real processes: `loket sandbox`, `loket serve` and `loket worker`, as an
operator runs them, on the suite's database; the conversation is driven through the simulator API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from loket.clock import system_clock
from loket.config import Settings
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.demo import seed_summary, seed_tenants
from loket.security.secretbox import SecretBox
from stack import free_port
from support import TEST_SCOPE

pytestmark = pytest.mark.e2e


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "loket.cli", *args], env=env, stdout=handle, stderr=subprocess.STDOUT
    )


async def wait_ready(http: aiohttp.ClientSession, url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 90  # generous: CI machines may be busy
    while time.monotonic() < deadline:
        for proc in procs:
            assert proc.poll() is None, f"a process exited early with {proc.returncode}"
        try:
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture
def processes(settings: Settings, tmp_path: Path) -> Iterator[dict[str, object]]:
    db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    asyncio.run(seed_tenants_then_dispose(db, settings))
    sandbox_port, loket_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        LOKET_DATABASE_URL=settings.effective_database_url,
        LOKET_META_APP_SECRET=settings.meta_app_secret or "",
        LOKET_WEBHOOK_VERIFY_TOKEN=settings.webhook_verify_token or "",
        LOKET_MASTER_KEY=settings.master_key or "",
        LOKET_GRAPH_API_URL=f"http://127.0.0.1:{sandbox_port}/v23.0",
        LOKET_CORE_URL=f"http://127.0.0.1:{sandbox_port}/core",
        LOKET_VAR_DIR=str(tmp_path / "var"),
    )
    procs = [
        start(
            [
                "sandbox",
                "--port",
                str(sandbox_port),
                "--webhook-url",
                f"http://127.0.0.1:{loket_port}/webhooks/whatsapp",
            ],
            env,
            tmp_path / "sandbox.log",
        ),
        start(["serve", "--port", str(loket_port)], env, tmp_path / "serve.log"),
        start(["worker"], env, tmp_path / "worker.log"),
    ]
    try:
        yield {
            "sandbox": f"http://127.0.0.1:{sandbox_port}",
            "loket": f"http://127.0.0.1:{loket_port}",
            "procs": procs,
            "logs": tmp_path,
        }
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def seed_tenants_then_dispose(db: Database, settings: Settings) -> None:
    try:
        await seed_tenants(db, SecretBox(settings.master_key_bytes))
    finally:
        await db.dispose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_halo_and_saldo_through_real_processes(processes: dict[str, object], http: aiohttp.ClientSession) -> None:
    sandbox, loket = str(processes["sandbox"]), str(processes["loket"])
    procs = processes["procs"]
    assert isinstance(procs, list)
    await wait_ready(http, f"{loket}/readyz", procs)
    await wait_ready(http, f"{sandbox}/_sandbox/phones", procs)
    summary = await seed_summary(DemoCore.generate(system_clock))
    customer = next(c for c in summary["customers"] if c["tenant_id"] == "bank-nusantara" and c["language"] == "id")
    pnid, wa_id = customer["phone_number_id"], customer["wa_id"]

    async def say(text: str) -> None:
        payload = {"wa_id": wa_id, "phone_number_id": pnid, "type": "text", "text": text}
        async with http.post(f"{sandbox}/_sandbox/inbound", json=payload) as resp:
            assert resp.status == 200, await resp.text()

    async def outbound(count: int) -> list[dict[str, object]]:
        deadline = time.monotonic() + 20
        while True:
            async with http.get(f"{sandbox}/_sandbox/chats/{pnid}/{wa_id}") as resp:
                messages = [m for m in (await resp.json())["messages"] if m["direction"] == "out"]
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            await asyncio.sleep(0.1)

    await say("halo")
    out = await outbound(2)
    assert len(out) == 2, (Path(str(processes["logs"])) / "worker.log").read_text()[-3000:]
    assert "Bank Nusantara" in out[0]["payload"]["text"]["body"]  # type: ignore[index]
    assert out[1]["payload"]["interactive"]["type"] == "list"  # type: ignore[index]
    await say("saldo")
    out = await outbound(3)
    # Balances need a step-up: approve it as the institution's app would, through the core API.
    assert "setujui permintaan verifikasi" in out[2]["payload"]["interactive"]["body"]["text"]  # type: ignore[index]
    step_ups = f"{sandbox}/core/v1/tenants/bank-nusantara/step-ups"
    async with http.get(step_ups, params={"customer_id": customer["customer_id"], "status": "pending"}) as resp:
        [pending] = (await resp.json())["items"]
    async with http.post(f"{step_ups}/{pending['request_id']}/decision", json={"approve": True}) as resp:
        assert resp.status == 200, await resp.text()
    out = await outbound(4)  # the worker's step-up watcher resumes the journey
    assert "Rp" in out[3]["payload"]["text"]["body"]  # type: ignore[index]
    # The delivery statuses came back to Loket as signed webhooks and were applied.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with http.get(f"{loket}/metrics") as resp:
            metrics = await resp.text()
        if 'loket_webhook_items_total{kind="status"}' in metrics:
            break
        await asyncio.sleep(0.2)
    assert 'loket_webhook_items_total{kind="status"}' in metrics
