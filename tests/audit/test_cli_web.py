"""The `loket audit` commands end to end, and the HTTP routes the web app mounts."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from audit_support import MASTER_KEY_TEXT
from fastapi import Depends, FastAPI, HTTPException
from typer.testing import CliRunner

from loket.audit import merkle
from loket.audit.checkpoints import cut_checkpoint
from loket.audit.cli import audit_app
from loket.audit.events import EventType
from loket.audit.keys import KeyRing
from loket.audit.log import AuditEvent, AuditLog
from loket.audit.note import open_checkpoint
from loket.audit.web import build_audit_router
from support import TEST_SCOPE

T = "bank-nusantara"
runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("LOKET_MODE", "demo")
    monkeypatch.setenv("LOKET_DATABASE_URL", database_url)
    monkeypatch.setenv("LOKET_MASTER_KEY", MASTER_KEY_TEXT)
    monkeypatch.setenv("LOKET_PUBLIC_URL", "https://loket.test")
    return database_url


def populate(database_url: str) -> None:
    from audit_support import MASTER

    from loket.audit.canonical import Pseudonymizer
    from loket.db.engine import Database
    from loket.security.secretbox import SecretBox

    async def go() -> None:
        db = Database(database_url, default_scope=TEST_SCOPE)
        try:
            log = AuditLog(db, Pseudonymizer(MASTER))
            ring = KeyRing(db, SecretBox(MASTER), origin_base="loket.test")
            events = [
                AuditEvent(
                    EventType.PII_REVEALED,
                    T,
                    {"staff": "staff:1", "customer": "628", "field": "nik", "reason": "complaint"},
                ),
                AuditEvent(
                    EventType.POLICY_DECISION,
                    T,
                    {"rule": "offer_hours", "decision": "blocked", "message_class": "marketing"},
                ),
                AuditEvent(EventType.STAFF_LOGIN, T, {"staff": "staff:1", "method": "password_totp"}),
            ]
            await log.record_many(events * 7)
            await cut_checkpoint(ring, T)
        finally:
            await db.dispose()

    asyncio.run(go())


def invoke(*args: str) -> Any:
    return runner.invoke(audit_app, list(args), catch_exceptions=False)


def test_cli_checkpoint_verify_export_proofs_keys_report(cli_env: str, tmp_path: Path) -> None:
    populate(cli_env)
    result = invoke("checkpoint", "--tenant", T)
    assert result.exit_code == 0 and result.stdout.startswith("loket.test/audit/bank-nusantara\n21\n")

    keys_file = tmp_path / "keys.json"
    result = invoke("keys", "list", "--json")
    keys_file.write_text(result.stdout)
    assert json.loads(result.stdout)["keys"][0]["vkey"].startswith("loket.test/audit/bank-nusantara+")

    result = invoke("verify", "--tenant", T, "--keys", str(keys_file))
    assert result.exit_code == 0, result.stdout
    assert "OK" in result.stdout

    out = tmp_path / "evidence.zip"
    result = invoke("export", "--tenant", T, "--from", "2000-01-01", "--to", "2100-01-01", "--out", str(out))
    assert result.exit_code == 0
    assert zipfile.ZipFile(out).testzip() is None
    result = invoke("verify", str(out), "--keys", str(keys_file), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True

    inclusion = json.loads(invoke("proof", "inclusion", "--tenant", T, "--index", "5").stdout)
    assert inclusion["tree_size"] == 21 and len(inclusion["proof"]) == 5
    consistency = json.loads(invoke("proof", "consistency", "--tenant", T, "--first", "7").stdout)
    assert consistency["second"] == 21 and consistency["proof"]

    result = invoke("keys", "rotate", "--tenant", T)
    assert result.exit_code == 0
    listed = invoke("keys", "list").stdout
    assert "retired" in listed and "current" in listed
    # old checkpoints stay verifiable with the retired key
    result = invoke("verify", "--tenant", T)
    assert result.exit_code == 0, result.stdout

    html = tmp_path / "report.html"
    assert (
        invoke("report", "--tenant", T, "--from", "2000-01-01", "--to", "2100-01-01", "--out", str(html)).exit_code == 0
    )
    text = html.read_text()
    assert "offer_hours" in text and "staff:1" in text and "tree size 23" in text
    assert "export.created" in text and "key.changed" in text
    pdf = tmp_path / "report.pdf"
    assert (
        invoke("report", "--tenant", T, "--from", "2000-01-01", "--to", "2100-01-01", "--out", str(pdf)).exit_code == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    offline = tmp_path / "offline.html"
    assert invoke("report", str(out), "--out", str(offline)).exit_code == 0
    assert "offer_hours" in offline.read_text() and "tree size 21" in offline.read_text()


def test_cli_verify_fails_with_exit_1_and_names_the_index(
    cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(cli_env)
    out = tmp_path / "evidence.zip"
    invoke("export", "--tenant", T, "--from", "2000-01-01", "--to", "2100-01-01", "--out", str(out))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "entries.jsonl":
                data = data.replace(b'"offer_hours"', b'"collection_hours"', 1)
            dst.writestr(name, data)
    for name in ("LOKET_DATABASE_URL", "LOKET_MASTER_KEY", "LOKET_MODE"):
        monkeypatch.delenv(name)  # a machine that has never seen the database
    assert invoke("verify", str(out)).exit_code == 0
    result = invoke("verify", str(tampered))
    assert result.exit_code == 1
    assert "first bad index 1: altered" in result.stdout


async def asgi_get(app: FastAPI, path: str, query: str = "") -> tuple[int, bytes, dict[str, str]]:
    """A minimal ASGI client (the suite has no httpx)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "root_path": "",
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, {k.decode(): v.decode() for k, v in start["headers"]}


async def test_http_routes(audit: AuditLog, keyring: KeyRing) -> None:
    app = FastAPI()
    app.include_router(build_audit_router(keyring))
    status, _, _ = await asgi_get(app, "/v1/audit/checkpoints/latest", f"tenant={T}")
    assert status == 404
    await audit.record_many([AuditEvent(EventType.STAFF_LOGOUT, T, {"staff": f"staff:{i}"}) for i in range(9)])
    first = await cut_checkpoint(keyring, T)
    await audit.record_many([AuditEvent(EventType.STAFF_LOGOUT, T, {"staff": f"staff:{i}"}) for i in range(5)])
    await cut_checkpoint(keyring, T)

    status, body, _ = await asgi_get(app, "/v1/audit/keys", f"tenant={T}")
    from loket.audit.note import PublicKey

    keys = [PublicKey.from_json(k) for k in json.loads(body)["keys"]]
    status, body, headers = await asgi_get(app, "/v1/audit/checkpoints/latest", f"tenant={T}")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    latest = open_checkpoint(body.decode(), keys).checkpoint
    assert latest.size == 14

    status, body, _ = await asgi_get(app, "/v1/audit/proofs/inclusion", f"tenant={T}&index=3")
    proof = json.loads(body)
    import base64

    merkle.verify_inclusion(
        3, 14, base64.b64decode(proof["leaf_hash"]), [base64.b64decode(p) for p in proof["proof"]], latest.root
    )
    status, body, _ = await asgi_get(app, "/v1/audit/proofs/consistency", f"tenant={T}&first=9")
    proof = json.loads(body)
    merkle.verify_consistency(9, 14, first.checkpoint.root, latest.root, [base64.b64decode(p) for p in proof["proof"]])
    status, body, _ = await asgi_get(app, "/v1/audit/proofs/inclusion", f"tenant={T}&index=99")
    assert status == 400


async def test_http_routes_take_an_auth_dependency(keyring: KeyRing) -> None:
    def deny() -> None:
        raise HTTPException(401, "no")

    app = FastAPI()
    app.include_router(build_audit_router(keyring, auth=deny))
    status, _, _ = await asgi_get(app, "/v1/audit/keys")
    assert status == 401
    assert Depends  # the hook is a plain FastAPI dependency
