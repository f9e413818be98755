"""The intent model is trained once per test session (about a second) and shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from loket.understanding.evaluate import EvalRow, load_eval
from loket.understanding.model import IntentModel, default_model

EVAL_PATH = Path(__file__).resolve().parents[1] / "data" / "intents_eval.tsv"


@pytest.fixture(scope="session")
def intent_model() -> IntentModel:
    return default_model()


@pytest.fixture(scope="session")
def eval_path() -> Path:
    return EVAL_PATH


@pytest.fixture(scope="session")
def eval_rows() -> list[EvalRow]:
    return load_eval(EVAL_PATH)
