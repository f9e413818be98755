"""Accuracy of the intent classifier on a labelled evaluation set, as a Markdown report.

    python -m loket.understanding.evaluate tests/data/intents_eval.tsv [--split heldout|dev|all]

The evaluation file has a header and four tab-separated columns: split (dev or heldout), intent,
style (id_informal, id_formal, en, mixed) and text.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loket.understanding.intents import Decision, Intent, decide
from loket.understanding.model import IntentModel, default_model

SPLITS = ("dev", "heldout")
STYLES = ("id_informal", "id_formal", "en", "mixed")


class EvalDataError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EvalRow:
    split: str
    intent: Intent
    style: str
    text: str


@dataclass(frozen=True, slots=True)
class IntentScore:
    precision: float
    recall: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    rows: int
    accuracy: float
    per_intent: dict[Intent, IntentScore]
    by_style: dict[str, tuple[int, int]]  # style -> (correct, total)
    decisions: dict[Decision, tuple[int, int]]  # decision -> (correct, total)
    errors: list[tuple[EvalRow, Intent, float]]


def parse_eval(raw: str, *, source: str = "eval") -> list[EvalRow]:
    rows: list[EvalRow] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or (number == 1 and line.startswith("split\t")):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise EvalDataError(f"{source}:{number}: expected split, intent, style, text")
        split, intent, style, text = (part.strip() for part in parts)
        if split not in SPLITS or style not in STYLES or not text:
            raise EvalDataError(f"{source}:{number}: bad split, style or empty text")
        try:
            rows.append(EvalRow(split, Intent(intent), style, text))
        except ValueError:
            raise EvalDataError(f"{source}:{number}: unknown intent {intent!r}") from None
    return rows


def load_eval(path: Path) -> list[EvalRow]:
    return parse_eval(path.read_text(encoding="utf-8"), source=str(path))


def evaluate(model: IntentModel, rows: Sequence[EvalRow]) -> Report:
    results = [model.classify(row.text) for row in rows]
    predicted: Counter[Intent] = Counter()
    actual: Counter[Intent] = Counter()
    hits: Counter[Intent] = Counter()
    styles: dict[str, list[int]] = {}
    decisions: dict[Decision, list[int]] = {decision: [0, 0] for decision in Decision}
    errors: list[tuple[EvalRow, Intent, float]] = []
    for row, result in zip(rows, results, strict=True):
        right = result.intent is row.intent
        predicted[result.intent] += 1
        actual[row.intent] += 1
        hits[row.intent] += right
        tally = styles.setdefault(row.style, [0, 0])
        tally[0] += right
        tally[1] += 1
        decision = decisions[decide(result)]
        decision[0] += right
        decision[1] += 1
        if not right:
            errors.append((row, result.intent, result.confidence))
    per_intent = {
        intent: IntentScore(
            precision=hits[intent] / predicted[intent] if predicted[intent] else 0.0,
            recall=hits[intent] / actual[intent] if actual[intent] else 0.0,
            support=actual[intent],
        )
        for intent in Intent
        if actual[intent] or predicted[intent]
    }
    return Report(
        rows=len(rows),
        accuracy=sum(hits.values()) / len(rows) if rows else 0.0,
        per_intent=per_intent,
        by_style={style: (tally[0], tally[1]) for style, tally in styles.items()},
        decisions={decision: (tally[0], tally[1]) for decision, tally in decisions.items()},
        errors=errors,
    )


def markdown(report: Report, *, split: str) -> str:
    lines = [
        f"Split: **{split}**, {report.rows} utterances, accuracy **{report.accuracy:.1%}**.",
        "",
        "| intent | precision | recall | support |",
        "|---|---:|---:|---:|",
    ]
    for intent, score in sorted(report.per_intent.items(), key=lambda item: (item[1].recall, item[0].value)):
        lines.append(f"| {intent.value} | {score.precision:.2f} | {score.recall:.2f} | {score.support} |")
    lines += ["", "| style | correct | total | accuracy |", "|---|---:|---:|---:|"]
    for style in STYLES:
        correct, total = report.by_style.get(style, (0, 0))
        if total:
            lines.append(f"| {style} | {correct} | {total} | {correct / total:.1%} |")
    lines += ["", "| decision | of which correct | total |", "|---|---:|---:|"]
    for decision, (correct, total) in report.decisions.items():
        lines.append(f"| {decision.value} | {correct} | {total} |")
    if report.errors:
        lines += ["", "| expected | predicted | confidence | text |", "|---|---|---:|---|"]
        for row, intent, confidence in report.errors:
            text = row.text.replace("|", "\\|")
            lines.append(f"| {row.intent.value} | {intent.value} | {confidence:.2f} | {text} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Per-intent precision and recall on an evaluation set.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="heldout")
    args = parser.parse_args(argv)
    try:
        rows = load_eval(args.path)
    except (OSError, EvalDataError) as error:
        sys.stderr.write(f"{error}\n")
        return 2
    selected = [row for row in rows if args.split == "all" or row.split == args.split]
    sys.stdout.write(markdown(evaluate(default_model(), selected), split=args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
