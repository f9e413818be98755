"""The business RSA key of WhatsApp Flows: loaded from configuration, or made once for the demo."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from loket.channel.flows_crypto import generate_private_key, load_private_key, private_key_to_pem
from loket.config import Settings

log = logging.getLogger(__name__)

DEMO_KEY_FILE = "flows-private-key.pem"


def load_flows_key(settings: Settings) -> rsa.RSAPrivateKey | None:
    """The configured key, or None when Flows are not configured. Settings validation has already
    refused an unreadable file or a wrong passphrase, so an error here is a file changed since."""
    path = settings.flows_private_key_file
    if path is None:
        return None
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the Flows private key file can be read by other users of this machine: chmod 600 it")
    return load_private_key(path.read_bytes(), settings.flows_private_key_passphrase or None)


def ensure_demo_flows_key(var_dir: Path) -> Path:
    """`var/flows-private-key.pem`, made once (RSA-2048, mode 0600) and kept across demo restarts."""
    path = var_dir / DEMO_KEY_FILE
    if path.exists():
        return path
    var_dir.mkdir(parents=True, exist_ok=True)
    # Written beside, then linked into place: a concurrent start never reads a half-written key.
    temporary = var_dir / f".{DEMO_KEY_FILE}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(private_key_to_pem(generate_private_key()))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
