"""The accuracy gate, and the rules the evaluation set itself must keep to stay honest."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]

from loket.understanding.evaluate import EvalRow, evaluate, markdown
from loket.understanding.intents import Intent
from loket.understanding.model import IntentModel, parse_examples, training_tsv
from loket.understanding.normalise import normalise

HELDOUT_ACCURACY = 0.92


def test_heldout_accuracy_gate(intent_model: IntentModel, eval_rows: list[EvalRow]) -> None:
    heldout = [row for row in eval_rows if row.split == "heldout"]
    report = evaluate(intent_model, heldout)
    assert report.accuracy >= HELDOUT_ACCURACY, markdown(report, split="heldout")


def test_no_intent_is_left_behind_on_heldout(intent_model: IntentModel, eval_rows: list[EvalRow]) -> None:
    report = evaluate(intent_model, [row for row in eval_rows if row.split == "heldout"])
    weak = {intent.value: score.recall for intent, score in report.per_intent.items() if score.recall < 0.6}
    assert not weak


def test_eval_set_shape(eval_rows: list[EvalRow]) -> None:
    assert len(eval_rows) >= 400
    for split in ("dev", "heldout"):
        assert {row.intent for row in eval_rows if row.split == split} == set(Intent)
    informal = sum(row.style == "id_informal" for row in eval_rows)
    assert informal * 2 >= len(eval_rows)
    assert len({normalise(row.text) for row in eval_rows}) == len(eval_rows)


def _tokens(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def test_eval_texts_are_not_copies_of_training_texts(eval_rows: list[EvalRow]) -> None:
    training = [example.text for example in parse_examples(training_tsv().decode("utf-8"))]
    exact = {normalise(text) for text in training}
    token_sets = {_tokens(text) for text in training}
    copies = [row.text for row in eval_rows if normalise(row.text) in exact or _tokens(row.text) in token_sets]
    assert not copies


def test_eval_texts_are_not_near_copies_of_training_texts(eval_rows: list[EvalRow]) -> None:
    """Character-trigram Jaccard similarity below 0.85 to every training text (short replies exempt)."""
    training = [example.text for example in parse_examples(training_tsv().decode("utf-8"))]
    texts = [f"  {normalise(row.text)}  " for row in eval_rows]
    trigrams = CountVectorizer(analyzer="char", ngram_range=(3, 3), binary=True, lowercase=False)
    train_matrix = trigrams.fit_transform([f"  {normalise(text)}  " for text in training])
    eval_matrix = trigrams.transform(texts)
    eval_sizes = np.array([len({text[i : i + 3] for i in range(len(text) - 2)}) for text in texts])
    shared = (eval_matrix @ train_matrix.T).toarray()
    train_sizes = np.asarray(train_matrix.sum(axis=1)).ravel()
    similarity = shared / (eval_sizes[:, None] + train_sizes[None, :] - shared)
    rows, columns = np.nonzero((similarity >= 0.85) & (eval_sizes[:, None] >= 12))
    assert not [(eval_rows[r].text, training[c]) for r, c in zip(rows, columns, strict=True)]


def test_training_data_covers_every_intent_generously() -> None:
    counts = Counter(example.intent for example in parse_examples(training_tsv().decode("utf-8")))
    assert set(counts) == set(Intent)
    assert min(counts.values()) >= 40


def test_eval_file_is_plain_tab_separated(eval_path: Path) -> None:
    for line in eval_path.read_text(encoding="utf-8").splitlines():
        assert len(line.split("\t")) == 4
        assert not re.search(r"\s$", line)
