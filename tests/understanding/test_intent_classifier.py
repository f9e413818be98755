from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loket.understanding import model as model_module
from loket.understanding.evaluate import EvalRow
from loket.understanding.intents import (
    CLARIFY_FLOOR,
    CONFIDENT,
    SENSITIVE,
    SENSITIVE_CONFIDENT,
    Decision,
    Intent,
    IntentResult,
    decide,
    is_sensitive,
    threshold,
)
from loket.understanding.model import IntentModel, TrainingDataError, classify, load_model, parse_examples
from loket.understanding.normalise import normalise


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sldo brp ya", Intent.BALANCE),
        ("cek mutasi dong", Intent.MUTATIONS),
        ("kartu atm sy ilang!!", Intent.BLOCK_CARD),
        ("minta rekening koran bulan lalu", Intent.E_STATEMENT),
        ("is this really bank nusantara?", Intent.OFFICIAL_CHANNEL_CHECK),
        ("mau klaim asuransi mobil", Intent.CLAIM_SUBMIT),
        ("min, mau komplain", Intent.COMPLAINT),
        ("blokir kartu kredit sekarang", Intent.BLOCK_CARD),
        ("pengeluaran saya bulan ini buat apa aja?", Intent.SPENDING_INSIGHT),
        ("bicara dengan CS", Intent.TALK_TO_HUMAN),
        ("english please", Intent.LANGUAGE_EN),
        ("bahasa indonesia", Intent.LANGUAGE_ID),
        ("batal", Intent.CANCEL),
        ("TOLONGGGG 🙏", Intent.HELP),
        ("CMP-2026-000123 gmn?", Intent.COMPLAINT_STATUS),
        ("status CLM-2026-000456", Intent.CLAIM_STATUS),
        ("jangan kirim promo lagi", Intent.MARKETING_OPT_OUT),
        ("hapus data saya", Intent.DATA_ERASURE_REQUEST),
        ("makasih 🙏", Intent.THANKS),
        ("👍", Intent.AFFIRM),
    ],
)
def test_customer_style_examples(intent_model: IntentModel, text: str, intent: Intent) -> None:
    result = intent_model.classify(text)
    assert result.intent is intent, result


def test_result_shape(intent_model: IntentModel) -> None:
    result = intent_model.classify("saldo tabungan saya berapa")
    assert result.intent is Intent.BALANCE
    assert 0.0 < result.confidence <= 1.0
    assert len(result.alternatives) == 3
    probabilities = [result.confidence, *(p for _, p in result.alternatives)]
    assert probabilities == sorted(probabilities, reverse=True)
    assert result.intent not in {intent for intent, _ in result.alternatives}
    assert result.language_guess == "id"
    assert intent_model.classify("what is my balance").language_guess == "en"


def test_module_level_classify_uses_the_shared_model(intent_model: IntentModel) -> None:
    assert classify("cek saldo") == intent_model.classify("cek saldo")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_not_understood(intent_model: IntentModel, text: str) -> None:
    result = intent_model.classify(text)
    assert result.confidence == 0.0
    assert decide(result) is Decision.MENU


def test_gibberish_is_never_mistaken_for_a_request(intent_model: IntentModel) -> None:
    for text in ("xqzv wpl", "asdkjh qweoiu zmxn", "😶‍🌫️", "........", "ℵ∆∑"):
        result = intent_model.classify(text)
        assert result.intent is Intent.OUT_OF_SCOPE or decide(result) is not Decision.ACT, (text, result)


def test_very_long_message_is_cheap_and_still_classified(intent_model: IntentModel) -> None:
    text = "kartu atm saya hilang tolong blokir " + "bla " * 1000
    assert intent_model.classify(text).intent is Intent.BLOCK_CARD


def test_fast_scorer_matches_scikit_learn_exactly(intent_model: IntentModel, eval_rows: list[EvalRow]) -> None:
    texts = [row.text for row in eval_rows]
    reference = intent_model.probabilities(texts)
    for text, row in zip(texts, reference, strict=True):
        result = intent_model.classify(text)
        best = int(np.argmax(row))
        assert result.intent is intent_model.labels[best]
        assert result.confidence == pytest.approx(float(row[best]), abs=1e-12)


def _result(intent: Intent, confidence: float, runner_up: float = 0.0) -> IntentResult:
    return IntentResult(intent, confidence, ((Intent.OUT_OF_SCOPE, runner_up),), "id")


def test_decision_rule() -> None:
    assert decide(_result(Intent.GREETING, CONFIDENT)) is Decision.ACT
    assert decide(_result(Intent.GREETING, CONFIDENT - 0.01)) is Decision.CLARIFY
    assert decide(_result(Intent.GREETING, 0.7, runner_up=0.6)) is Decision.CLARIFY  # too close to call
    assert decide(_result(Intent.GREETING, CLARIFY_FLOOR - 0.01)) is Decision.MENU
    assert decide(_result(Intent.BALANCE, SENSITIVE_CONFIDENT)) is Decision.ACT
    assert decide(_result(Intent.BALANCE, SENSITIVE_CONFIDENT - 0.01)) is Decision.CLARIFY
    assert decide(_result(Intent.BALANCE, CLARIFY_FLOOR - 0.01)) is Decision.MENU


def test_sensitive_intents() -> None:
    assert {intent.value for intent in SENSITIVE} == {
        "balance",
        "mutations",
        "e_statement",
        "block_card",
        "spending_insight",
        "claim_submit",
        "data_erasure_request",
    }
    assert is_sensitive("balance") and is_sensitive(Intent.BLOCK_CARD)
    assert not is_sensitive(Intent.GREETING)
    assert threshold(Intent.BALANCE) > threshold(Intent.GREETING)


def test_sensitive_intents_are_never_acted_on_when_wrong(intent_model: IntentModel, eval_rows: list[EvalRow]) -> None:
    """Across the whole evaluation set, no utterance is acted on as a sensitive intent it is not."""
    wrong = []
    for row in eval_rows:
        result = intent_model.classify(row.text)
        if is_sensitive(result.intent) and result.intent is not row.intent and decide(result) is Decision.ACT:
            wrong.append((row.text, result.intent.value, round(result.confidence, 2)))
    assert not wrong


def test_bad_training_data_is_a_clear_error() -> None:
    with pytest.raises(TrainingDataError, match="unknown intent"):
        parse_examples("intent\ttext\nnot_an_intent\thalo\n")
    with pytest.raises(TrainingDataError, match="expected intent<TAB>text"):
        parse_examples("greeting halo\n")
    with pytest.raises(TrainingDataError, match="no examples"):
        parse_examples("intent\ttext\n")


def test_training_tsv_normalises_to_something(intent_model: IntentModel) -> None:
    for example in parse_examples(model_module.training_tsv().decode("utf-8")):
        assert normalise(example.text), example.text


def test_disk_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_train = model_module.train

    def counting_train(*args: object, **kwargs: object) -> IntentModel:
        calls.append(1)
        return real_train(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model_module, "train", counting_train)
    first = load_model(tmp_path)
    second = load_model(tmp_path)
    assert len(calls) == 1
    assert len(list(tmp_path.glob("intent-model-*.pickle"))) == 1
    assert second.classify("cek saldo") == first.classify("cek saldo")


def test_unreadable_disk_cache_retrains(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_model(tmp_path)
    cached = next(tmp_path.glob("intent-model-*.pickle"))
    cached.write_bytes(b"not a pickle")
    model = load_model(tmp_path)
    assert model.classify("cek saldo").intent is Intent.BALANCE
    assert "retraining" in caplog.text
