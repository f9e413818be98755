"""The privacy pass in the worker: started by Runtime.start with the other background loops."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from loket.audit.log import current
from loket.privacy.service import PrivacyService

if TYPE_CHECKING:
    from loket.runtime import Runtime

log = logging.getLogger(__name__)


def privacy_tasks(runtime: Runtime) -> list[asyncio.Task[None]]:
    """Exports, erasures, overdue alerts and the daily purge; only in a process with an audit log
    (every step of a data-subject request is audited, so none runs without one)."""
    audit_log = current()
    if audit_log is None:
        log.warning("no audit log installed: the privacy pass (data-subject requests, retention) is off")
        return []
    service = PrivacyService(
        runtime.db, audit_log, box=runtime.box, core=runtime.core, keys=runtime.keys, clock=runtime.clock
    )
    return [asyncio.create_task(service.run_forever(), name="privacy")]
