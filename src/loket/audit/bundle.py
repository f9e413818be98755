"""Evidence bundles: a zip an examiner verifies on a machine that never saw the database.

README.txt        what this is and how to check it, for a person
manifest.json     tenant, period, index range, tree size, SHA-256 of every other file
entries.jsonl     one line per entry: {"index", "leaf_hash", "leaf"} (leaf = the canonical object)
checkpoints.json  every signed checkpoint of the tenant up to the latest (C2SP signed-note text)
latest.checkpoint the latest one, as plain text
proofs.json       subtree hashes left and right of the entries, consistency proofs to the latest
keys.json         the tenant's public keys with their validity periods
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from loket.audit.canonical import Entry
from loket.audit.checkpoints import checkpoints, consistency_proof, cut_checkpoint, latest_checkpoint, range_hashes
from loket.audit.events import iso
from loket.audit.keys import KeyRing
from loket.audit.note import PublicKey, parse_body, split_note
from loket.audit.report import ExaminerReport, summarise_into
from loket.audit.store import seq_range, stream_entries
from loket.audit.verify import Finding, Verifier, VerifyReport

FORMAT = "loket-audit-bundle/1"
Progress = Callable[[int, int], None]
README = """Loket audit evidence bundle
===========================

Tenant: {tenant}
Period: {start} to {end} (UTC; entries whose time falls in the period)
Entries: index {first} to {last} of the tenant's audit log ({count} entries)
Proven against: the signed checkpoint of tree size {size} (latest.checkpoint)

Every entry is a leaf of an append-only Merkle tree (RFC 6962). Checkpoints are signed with
Ed25519 in the C2SP signed-note format; keys.json lists the public keys and when each was valid.
Personal data never appears in the entries: customers appear as keyed hashes ("hmac1:...").

To verify, with Loket installed (no database needed):

    loket audit verify THIS_FILE.zip --keys PINNED_KEYS.json

Use keys obtained independently (GET /v1/audit/keys, or the institution's published list) rather
than the keys.json inside this bundle. The verifier recomputes every leaf, the subtree hashes and
the root, checks every checkpoint signature, the consistency of all checkpoints, and reports the
first bad index if anything was altered, deleted, reordered or inserted.

entries.jsonl     one entry per line: index, leaf_hash (base64), leaf (the canonical JSON object)
checkpoints.json  all checkpoints up to the latest; proofs.json the hashes tying them together
manifest.json     SHA-256 of every file
"""


class BundleError(Exception):
    """The bundle cannot be produced or read."""


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    tenant: str
    first: int
    end: int
    tree_size: int


def _b64(values: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def _unb64(values: Sequence[str]) -> list[bytes]:
    return [base64.b64decode(v, validate=True) for v in values]


async def export_bundle(
    keyring: KeyRing,
    tenant: str,
    start: datetime,
    end: datetime,
    out: Path,
    *,
    progress: Progress | None = None,
) -> BundleSummary:
    db = keyring.db
    async with db.sessions() as session:
        span = await seq_range(session, tenant, start, end)
        if span is None:
            raise BundleError(f"no audit entries for {tenant} between {iso(start)} and {iso(end)}")
        latest = await latest_checkpoint(session, tenant)
    first, stop = span
    if latest is None or latest.size < stop:
        await cut_checkpoint(keyring, tenant)
    async with db.sessions() as session:
        latest = await latest_checkpoint(session, tenant)
        assert latest is not None
        size = latest.size
        notes = [c for c in await checkpoints(session, tenant) if c.size <= size]
        proofs = {
            "tree_size": size,
            "first_index": first,
            "end_index": stop,
            "left": _b64(await range_hashes(session, tenant, 0, first)),
            "right": _b64(await range_hashes(session, tenant, stop, size)),
            "consistency": {
                str(c.size): _b64(await consistency_proof(session, tenant, c.size, size))
                for c in notes
                if c.size < size
            },
        }
    keys = [k.to_json() for k in await keyring.public_keys(tenant)]
    digests: dict[str, str] = {}

    def put(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
        zf.writestr(name, data)
        digests[name] = hashlib.sha256(data).hexdigest()

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        digest = hashlib.sha256()
        with zf.open("entries.jsonl", "w") as fh:
            async with db.sessions() as session:
                done = 0
                async for entry, recorded in stream_entries(session, tenant, start=first, stop=stop):
                    line = {
                        "index": entry.index,
                        "leaf_hash": base64.b64encode(recorded).decode(),
                        "leaf": entry.leaf(),
                    }
                    data = orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n"
                    fh.write(data)
                    digest.update(data)
                    done += 1
                    if progress is not None and done % 5000 == 0:
                        progress(done, stop - first)
        digests["entries.jsonl"] = digest.hexdigest()
        put(zf, "checkpoints.json", _json([{"size": c.size, "note": c.note} for c in notes]))
        put(zf, "latest.checkpoint", latest.note.encode())
        put(zf, "proofs.json", _json(proofs))
        put(zf, "keys.json", _json(keys))
        readme = README.format(
            tenant=tenant, start=iso(start), end=iso(end), first=first, last=stop - 1, count=stop - first, size=size
        )
        put(zf, "README.txt", readme.encode())
        manifest = {
            "format": FORMAT,
            "tenant": tenant,
            "origin": keyring.origin(tenant),
            "period": {"from": iso(start), "to": iso(end)},
            "entries": [first, stop],
            "tree_size": size,
            "generated_at": iso(keyring.clock.now()),
            "files": digests,
        }
        zf.writestr("manifest.json", _json(manifest))
    if progress is not None:
        progress(stop - first, stop - first)
    return BundleSummary(out, tenant, first, stop, size)


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def read_json(zf: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(zf.read(name))
    except KeyError:
        raise BundleError(f"the bundle has no {name}") from None


def verify_bundle(
    path: Path,
    *,
    keys: Sequence[PublicKey] | None = None,
    trusted: Sequence[str] = (),
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify a bundle offline. `keys`: pinned public keys; without them the bundle's own are used."""
    with zipfile.ZipFile(path) as zf:
        manifest = read_json(zf, "manifest.json")
        if manifest.get("format") != FORMAT:
            raise BundleError(f"not a Loket audit bundle (format {manifest.get('format')!r})")
        tenant = str(manifest["tenant"])
        proofs = read_json(zf, "proofs.json")
        bundle_keys = [PublicKey.from_json(k) for k in read_json(zf, "keys.json")]
        first, stop = int(proofs["first_index"]), int(proofs["end_index"])
        verifier = Verifier(tenant, keys if keys is not None else bundle_keys, start=first, left=_unb64(proofs["left"]))
        report = verifier.report
        if keys is None:
            report.warnings.append("public keys taken from the bundle itself: pin them with --keys")
        for name, expected in sorted(manifest.get("files", {}).items()):
            actual = hashlib.sha256(zf.read(name)).hexdigest() if name in zf.namelist() else "missing"
            if actual != expected:
                report.warnings.append(f"manifest: {name} does not match its SHA-256 (edited after export)")
        for item in read_json(zf, "checkpoints.json"):
            verifier.add_checkpoint(str(item["note"]))
        for note in trusted:
            verifier.add_checkpoint(note, trusted=True)
        with zf.open("entries.jsonl") as fh:
            for position, raw in enumerate(fh, start=first):
                try:
                    line = json.loads(raw)
                    entry = Entry.from_leaf(line["leaf"])
                    if line["index"] != entry.index or entry.tenant != tenant:
                        raise ValueError("index or tenant differs between the line and its leaf")
                    recorded = base64.b64decode(line["leaf_hash"], validate=True)
                except (ValueError, KeyError, TypeError) as exc:
                    report.findings.append(
                        Finding(position, "malformed", f"entries.jsonl line {position - first + 1}: {exc}")
                    )
                    return verifier.finish()
                verifier.feed(entry, recorded)
                if progress is not None and (position - first) % 10_000 == 0:
                    progress(position - first, stop - first)
        if report.end < stop and report.ok:
            report.findings.append(Finding(report.end, "missing", f"the bundle ends at {report.end}, expected {stop}"))
        consistency = {int(k): _unb64(v) for k, v in proofs["consistency"].items()}
        return verifier.finish(right=_unb64(proofs["right"]), consistency=consistency)


def report_from_bundle(path: Path, start: datetime | None, end: datetime | None, now: datetime) -> ExaminerReport:
    """The examiner's view from a bundle, offline (verify the bundle first: this only reads it)."""
    with zipfile.ZipFile(path) as zf:
        manifest = read_json(zf, "manifest.json")
        period = manifest["period"]
        first = datetime.fromisoformat(period["from"]) if start is None else start
        last = datetime.fromisoformat(period["to"]) if end is None else end
        body, signatures = split_note(zf.read("latest.checkpoint").decode())
        report = ExaminerReport(str(manifest["tenant"]), first, last, now, parse_body(body), signatures[0][1].hex())
        with zf.open("entries.jsonl") as fh:
            entries = (Entry.from_leaf(json.loads(raw)["leaf"]) for raw in fh)
            return summarise_into(report, entries)
