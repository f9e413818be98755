"""What the customer is told about a complaint, in their language and time zone (catalog `complaint.*`)."""

from __future__ import annotations

from datetime import date

from loket.alerts.compose import TEMPLATE_UPDATE, template_language, template_param
from loket.channel.outgoing import Template, Text
from loket.complaints.model import NEEDS_ESCALATION_PATH, Status
from loket.complaints.sla import Reading, SlaPolicy, due_moment
from loket.complaints.tables import Complaint
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time

__all__ = [
    "due_moment",
    "due_text",
    "escalation_path",
    "registered",
    "status_notice",
    "status_reply",
    "update_template",
]


def due_text(day: date, policy: SlaPolicy, zone: str, language: str) -> str:
    """The deadline as the customer reads it: closing time on the day, in their own zone."""
    return local_time(due_moment(day, policy), zone, language)


def escalation_path(language: str) -> str:
    """CMP-7 and OJK-1: LAPS SJK, then OJK's 157 contact and its complaint portal."""
    return t(language, "complaint.escalation")


def registered(row: Complaint, reading: Reading, policy: SlaPolicy) -> Text:
    language = row.language
    if reading.paused:
        assert reading.documents_due is not None
        body = t(
            language,
            "complaint.registered_documents",
            reference=row.reference,
            documents=_documents(row),
            days=policy.documents_days,
            due=due_text(reading.documents_due, policy, row.zone, language),
        )
    else:
        assert reading.deadline is not None
        body = t(
            language,
            "complaint.registered",
            reference=row.reference,
            days=reading.budget,
            due=due_text(reading.deadline, policy, row.zone, language),
        )
    return Text(body=body)


def _documents(row: Complaint) -> str:
    missing = [str(d["name"]).replace("_", " ") for d in row.documents if not d.get("received")]
    return ", ".join(missing)


def status_reply(
    row: Complaint, reading: Reading, policy: SlaPolicy, final_answer: str | None, language: str | None = None
) -> Text:
    """The answer to "status pengaduan PGD-...": where it is and what comes next."""
    language = language or row.language
    status = Status(row.status)
    label = t(language, f"complaint.status.{status.value}")
    if status in NEEDS_ESCALATION_PATH or status is Status.RESOLVED:
        parts = [t(language, "complaint.status_final", reference=row.reference, status=label)]
        if final_answer:
            parts.append(final_answer)
        if status in NEEDS_ESCALATION_PATH:
            parts.append(escalation_path(language))
        return Text(body="\n\n".join(parts))
    if reading.paused:
        assert reading.documents_due is not None
        due = due_text(reading.documents_due, policy, row.zone, language)
        return Text(
            body=t(
                language,
                "complaint.status_documents",
                reference=row.reference,
                documents=_documents(row),
                due=due,
            )
        )
    assert reading.deadline is not None
    return Text(
        body=t(
            language,
            "complaint.status_open",
            reference=row.reference,
            status=label,
            due=due_text(reading.deadline, policy, row.zone, language),
        )
    )


def status_notice(
    row: Complaint, kind: str, reading: Reading, policy: SlaPolicy, *, final_answer: str | None
) -> Text | None:
    """The notification of a change, or None for changes the customer need not hear about."""
    language = row.language
    if kind == "registered":
        return registered(row, reading, policy)
    if kind == "extension_notice":
        assert reading.deadline is not None
        return Text(
            body=t(
                language,
                "complaint.extension_notice",
                reference=row.reference,
                days=policy.max_extension_days,
                due=due_text(reading.deadline, policy, row.zone, language),
            )
        )
    if kind in ("in_progress", "documents_requested", "documents_completed", "extended") or kind in {
        s.value for s in (Status.RESOLVED, Status.REJECTED, Status.UNRESOLVED)
    }:
        reply = status_reply(row, reading, policy, final_answer)
        return Text(body=t(language, "complaint.changed") + "\n\n" + reply.body)
    return None


def update_template(row: Complaint) -> Template:
    """The notice as Loket's approved utility template (`loket_account_update`), for when the customer's
    24-hour window has closed: the status in one line and how to read the rest."""
    language = row.language
    status = t(language, f"complaint.status.{row.status}")
    line = t(language, "complaint.template_update", reference=row.reference, status=status)
    return Template(name=TEMPLATE_UPDATE, language=template_language(language), body=(template_param(line),))
