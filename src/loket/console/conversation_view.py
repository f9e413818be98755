"""Everything the conversation page shows, gathered in one read: the thread, the handoff, the window,
the customer panel, the templates and canned responses an agent may use, and what is known of files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from loket.console.canned import list_canned
from loket.console.conversation_access import ConversationRef, find_conversation, record_action
from loket.console.conversation_panel import CustomerPanel, add_complaints, customer_panel, recent_events
from loket.console.conversation_services import ConversationServices
from loket.console.conversation_tables import CannedResponse, MediaCheck
from loket.console.deps import ConsoleUser
from loket.console.files import known_checks
from loket.console.files_sniff import DANGEROUS_EXTENSIONS, extension_of
from loket.console.reply import Window
from loket.console.templates_pick import TemplateOption, approved_templates
from loket.console.thread import ThreadItem, load_thread
from loket.i18n.catalog import t
from loket.staff.tables import StaffUser


@dataclass(frozen=True, slots=True)
class FileFlag:
    state: str  # unchecked, safe, image, dangerous
    detected: str | None = None


@dataclass
class ConversationPage:
    ref: ConversationRef
    thread: list[ThreadItem]
    window: Window
    now: datetime
    staff_names: dict[str, str]
    files: dict[str, FileFlag]
    panel: CustomerPanel | None
    templates: list[TemplateOption] = field(default_factory=list)
    canned: list[CannedResponse] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        return {
            "conv": self.ref,
            "handoff": self.ref.handoff,
            "thread": self.thread,
            "window": self.window,
            "window_left_minutes": int(self.window.remaining(self.now).total_seconds() // 60),
            "staff_names": self.staff_names,
            "files": self.files,
            "panel": self.panel,
            "templates": self.templates,
            "canned": self.canned,
        }


def _flag(item: ThreadItem, checks: dict[str, MediaCheck]) -> FileFlag:
    assert item.media is not None
    check = checks.get(item.media.media_id)
    if check is not None:
        if check.dangerous:
            return FileFlag("dangerous", check.detected)
        return FileFlag("image" if check.detected in ("jpeg", "png", "gif", "webp") else "safe", check.detected)
    if extension_of(item.media.filename) in DANGEROUS_EXTENSIONS:
        return FileFlag("dangerous", extension_of(item.media.filename))
    return FileFlag("unchecked")


async def load_page(
    services: ConversationServices,
    user: ConsoleUser,
    tenant_id: str,
    handoff_id: int,
    *,
    audit_view: bool,
    thread_only: bool = False,
) -> ConversationPage:
    """Raises ConversationNotFound for an id outside the staff member's tenant. `thread_only` (the
    page's periodic refresh) skips the customer panel, templates and canned responses. The core and the
    complaints adapter are asked after the transaction, never while it holds a connection."""
    now = services.clock.now()
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id)
        thread = await load_thread(
            session, tenant_id=tenant_id, wa_id=ref.wa_id, conversation_id=ref.id, box=services.box
        )
        staff_ids = sorted({item.staff_id for item in thread if item.staff_id})
        if ref.handoff.assigned_to:
            staff_ids.append(ref.handoff.assigned_to)
        names: dict[str, str] = {}
        if staff_ids:
            rows = await session.execute(
                select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff_ids))
            )
            names = {str(staff_id): str(name) for staff_id, name in rows}
        media_ids = [item.media.media_id for item in thread if item.media is not None and item.author == "customer"]
        checks = await known_checks(session, tenant_id, media_ids)
        files = {
            item.media.media_id: _flag(item, checks)
            for item in thread
            if item.media is not None and item.author == "customer"
        }
        with_panel = user.can("customers.read") and not thread_only
        recent = await recent_events(session, ref) if with_panel else None
        replying = user.can("conversations.reply") and not thread_only
        templates = await approved_templates(session, tenant_id) if replying else []
        canned = await list_canned(session, tenant_id) if replying else []
        if audit_view:
            await record_action(session, ref, staff_id=user.user_id, action="viewed", at=now)
    window = Window.of(ref.last_inbound_at, now)
    panel = None
    if recent is not None:
        panel = await customer_panel(services, ref)
        panel.alerts, panel.confirmations = recent
        await add_complaints(services, panel, ref)
    return ConversationPage(ref, thread, window, now, names, files, panel, templates, canned)


def refusal_text(language: str, rule: str) -> str:
    """The staff member's own language; every gate rule and console check has a catalog entry."""
    key = "console.conversation.refused." + rule.replace(".", "_")
    try:
        return t(language, key)
    except KeyError:
        return t(language, "console.conversation.refused.other", rule=rule)
