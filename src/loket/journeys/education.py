"""Financial education: short lessons written by us, browsable by topic, one tip at a time, in both
languages. The lessons live in the message catalogs (education.topics.<topic>.tips.<n>)."""

from __future__ import annotations

import re
from typing import Any

from loket.channel.outgoing import ListMessage, ListRow, ListSection, ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome
from loket.i18n.catalog import catalog, normalise_language, t

TOPICS = ("saving", "budgeting", "credit", "insurance", "scams")
_TOPIC_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("scams", re.compile(r"penipu|tipu|scam|phishing|otp|hoax|modus|fraud", re.IGNORECASE)),
    ("credit", re.compile(r"kredit|pinjam|utang|hutang|cicil|paylater|pinjol|loan|credit|debt", re.IGNORECASE)),
    ("insurance", re.compile(r"asuransi|premi|polis|insurance|premium", re.IGNORECASE)),
    (
        "budgeting",
        re.compile(
            r"budget|anggar|(?:atur|kelola|mengelola)\s+(?:uang|keuangan|gaji)|pengeluaran|gaji|spend", re.IGNORECASE
        ),
    ),
    ("saving", re.compile(r"nabung|tabung|saving|save|dana\s+darurat|emergency\s+fund|invest", re.IGNORECASE)),
)


def tip_count(language: str, topic: str) -> int:
    entries = catalog(normalise_language(language))
    count = 0
    while f"education.topics.{topic}.tips.{count + 1}" in entries:
        count += 1
    return count


def topic_in(text: str | None) -> str | None:
    for topic, pattern in _TOPIC_WORDS:
        if text and pattern.search(text):
            return topic
    return None


def _topics(ctx: Context) -> ListMessage:
    language = ctx.language
    rows = tuple(
        ListRow(
            id=ctx.button(f"topic.{topic}"),
            title=t(language, f"education.topics.{topic}.title"),
            description=t(language, f"education.topics.{topic}.description"),
        )
        for topic in TOPICS
    )
    return ListMessage(
        body=t(language, "education.intro"),
        button=t(language, "education.button"),
        sections=(ListSection(title=None, rows=rows),),
    )


def _tip(ctx: Context, topic: str, index: int) -> Outcome:
    language = ctx.language
    total = tip_count(language, topic)
    index = max(1, min(index, total))
    body = t(
        language,
        "education.tip",
        topic=t(language, f"education.topics.{topic}.title"),
        index=index,
        total=total,
        tip=t(language, f"education.topics.{topic}.tips.{index}"),
    )
    buttons = [
        ReplyButton(id=ctx.button("topics"), title=t(language, "education.other_topic")),
        ReplyButton(id=ctx.button("done"), title=t(language, "education.done")),
    ]
    if index < total:
        buttons.insert(0, ReplyButton(id=ctx.button("next"), title=t(language, "education.next")))
    return Outcome([ReplyButtons(body=body, buttons=tuple(buttons))], step="tip", data={"topic": topic, "index": index})


class EducationJourney:
    name = "education"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        topic = topic_in(given.text)
        if topic is not None:
            return _tip(ctx, topic, 1)
        return Outcome([_topics(ctx)], step="topics")

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        choice = given.choice or ""
        if choice.startswith("topic."):
            topic = choice.removeprefix("topic.")
            if topic in TOPICS:
                return _tip(ctx, topic, 1)
        if choice == "topics":
            return Outcome([_topics(ctx)], step="topics")
        if choice == "done":
            return Outcome([Text(body=t(ctx.language, "education.bye"))])
        topic = str(data.get("topic", ""))
        if choice == "next" and topic in TOPICS:
            return _tip(ctx, topic, int(data.get("index", 0)) + 1)
        typed = topic_in(given.text)
        if typed is not None:
            return _tip(ctx, typed, 1)
        if topic in TOPICS and (given.text or "").strip().casefold() in {
            "lanjut",
            "next",
            "lagi",
            "more",
            "berikutnya",
        }:
            return _tip(ctx, topic, int(data.get("index", 0)) + 1)
        return Outcome([_topics(ctx)], step="topics")


JOURNEY = EducationJourney()
