"""What the engine makes of a customer's free text: the classifier's intent and decision, the
entities, the language, whether the text is in a language we do not serve, and an angry tone.

The classifier decides ACT / CLARIFY / MENU (docs/intents.md); a handful of exact words are read
without it because a customer must always be able to stop ("batal") or start over ("menu").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from loket.understanding import Decision, Entities, Intent, IntentResult, classify, decide, extract

_EXACT: dict[str, Intent] = {
    **dict.fromkeys(
        ("batal", "batalkan", "cancel", "stop", "ga jadi", "gak jadi", "tidak jadi", "gajadi"), Intent.CANCEL
    ),
    **dict.fromkeys(("menu", "menu utama", "main menu", "mulai", "start"), Intent.MENU),
    **dict.fromkeys(("english", "english please", "in english", "inggris"), Intent.LANGUAGE_EN),
    **dict.fromkeys(("bahasa indonesia", "indonesia", "bahasa", "indonesian"), Intent.LANGUAGE_ID),
}
# Words and marks of anger or contempt, in both languages; "!!" alone is urgency, not anger.
_ANGRY = re.compile(
    r"\b(?:goblok|bego|bodoh|tolol|bangsat|anjing|anjir|bajingan|brengsek|kampret|sialan|tai|taik|"
    r"kecewa(?:\s+berat)?|parah\s+banget|payah|lelet|lemot\s+banget|ngecewain|muak|kesel\s+banget|"
    r"useless|stupid|idiot|ridiculous|pathetic|terrible\s+service|wtf|fed\s+up|furious|angry|scam\s+bank)\b",
    re.IGNORECASE,
)
# The classifier has no feedback intent (the Kritik & saran form came before it): these words ask for it.
_FEEDBACK = re.compile(
    r"\b(?:kritik|feedback|masukan|(?:kasih|beri|kirim)\s+saran|kritik\s*(?:dan|&)\s*saran)\b", re.IGNORECASE
)
_ANGRY_EMOJI = frozenset("😡😠🤬👿💢")
_LATIN_MAX = 0x24F  # Latin, Latin-1 and Latin Extended-A/B


@dataclass(frozen=True, slots=True)
class Reading:
    intent: Intent
    decision: Decision
    result: IntentResult | None
    entities: Entities
    language: str | None  # "id", "en", or None when the text does not say
    angry: bool
    foreign_script: bool  # mostly letters of a script we do not serve (Chinese, Arabic, Thai, ...)
    feedback: bool = False  # asks for the Kritik & saran form

    def alternatives(self) -> list[Intent]:
        if self.result is None:
            return [self.intent]
        return [self.result.intent, *(intent for intent, _ in self.result.alternatives)]


def _exact(text: str) -> Intent | None:
    folded = " ".join(re.findall(r"[a-z]+", unicodedata.normalize("NFKD", text.casefold())))
    return _EXACT.get(folded)


def foreign_script(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    if len(letters) < 2:
        return False
    foreign = sum(ord(char) > _LATIN_MAX for char in letters)
    return foreign * 2 > len(letters)


def angry(text: str) -> bool:
    return bool(_ANGRY.search(text)) or any(char in _ANGRY_EMOJI for char in text)


def read(text: str, now: datetime, timezone: str) -> Reading:
    entities = extract(text[:1000], now, timezone)
    exact = _exact(text)
    if exact is not None:
        return Reading(exact, Decision.ACT, None, entities, None, False, False)
    result = classify(text)
    return Reading(
        intent=result.intent,
        decision=decide(result),
        result=result,
        entities=entities,
        language=result.language_guess,
        angry=angry(text),
        foreign_script=foreign_script(text),
        feedback=bool(_FEEDBACK.search(text)),
    )
