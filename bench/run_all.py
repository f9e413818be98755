"""Runs every benchmark: `--smoke` for the tiny sizes `make test` uses to check they still run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHMARKS = [
    "webhook_ingest.py",
    "understanding.py",
    "audit.py",
    "alerts.py",
    "bot_turn.py",
    "crypto.py",
    "tenant_scope.py",
    "console.py",
]


def main() -> int:
    extra = sys.argv[1:]
    failed = []
    for name in BENCHMARKS:
        print(f"== {name} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(BENCH / name), *extra], check=False).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
