from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.channel.errors import (
    Action,
    GraphAccountError,
    GraphAuthError,
    GraphConnectionError,
    GraphError,
    GraphRateLimited,
    GraphRecipientError,
    GraphReengagementRequired,
    GraphRequestError,
    GraphTimeout,
    GraphTransientError,
    InvalidOutgoingMessage,
    MediaTooLarge,
    WaitScope,
    classify,
    parse_graph_error,
    parse_retry_after,
)


def envelope(code: int, **extra: object) -> bytes:
    error: dict[str, object] = {
        "message": f"(#{code}) something",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": "Nomor 6281234567890 tidak valid"},
        "fbtrace_id": "AbCdEf123",
    }
    error.update(extra)
    return orjson.dumps({"error": error})


def test_envelope_fields_are_parsed() -> None:
    error = parse_graph_error(400, envelope(131047, error_subcode=2494010, is_transient=False))
    assert isinstance(error, GraphReengagementRequired)
    assert error.action is Action.USE_TEMPLATE
    assert (error.http_status, error.code, error.subcode) == (400, 131047, 2494010)
    assert error.error_type == "OAuthException"
    assert error.message == "(#131047) something"
    assert error.details == "Nomor 6281234567890 tidak valid"
    assert error.fbtrace_id == "AbCdEf123"
    assert error.is_transient is False
    assert error.retry_after is None


def test_str_leaves_out_message_and_details() -> None:
    error = parse_graph_error(400, envelope(131026))
    text = str(error)
    assert "131026" in text and "AbCdEf123" in text and "give_up" in text
    assert "6281234567890" not in text
    assert "something" not in text


@pytest.mark.parametrize(
    ("code", "kind", "action"),
    [
        (131000, GraphTransientError, Action.RETRY),
        (131016, GraphTransientError, Action.RETRY),
        (1, GraphTransientError, Action.RETRY),
        (2, GraphTransientError, Action.RETRY),
        (130429, GraphRateLimited, Action.WAIT),
        (131056, GraphRateLimited, Action.WAIT),
        (80007, GraphRateLimited, Action.WAIT),
        (4, GraphRateLimited, Action.WAIT),
        (131047, GraphReengagementRequired, Action.USE_TEMPLATE),
        (131026, GraphRecipientError, Action.GIVE_UP),
        (131049, GraphRecipientError, Action.GIVE_UP),
        (131050, GraphRecipientError, Action.GIVE_UP),
        (100, GraphRequestError, Action.GIVE_UP),
        (131008, GraphRequestError, Action.GIVE_UP),
        (131009, GraphRequestError, Action.GIVE_UP),
        (132000, GraphRequestError, Action.GIVE_UP),
        (132001, GraphRequestError, Action.GIVE_UP),
        (132015, GraphRequestError, Action.GIVE_UP),
        (132016, GraphRequestError, Action.GIVE_UP),
        (190, GraphAuthError, Action.GIVE_UP),
        (0, GraphAuthError, Action.GIVE_UP),
        (10, GraphAuthError, Action.GIVE_UP),
        (200, GraphAuthError, Action.GIVE_UP),
        (299, GraphAuthError, Action.GIVE_UP),
        (368, GraphAccountError, Action.GIVE_UP),
        (131031, GraphAccountError, Action.GIVE_UP),
        (133010, GraphAccountError, Action.GIVE_UP),
    ],
)
def test_code_table(code: int, kind: type[GraphError], action: Action) -> None:
    error = parse_graph_error(400, envelope(code))
    assert type(error) is kind
    assert error.action is action
    assert classify(error) is action


@pytest.mark.parametrize("status", [400, 403, 429, 500, 503])
def test_known_code_wins_over_http_status(status: int) -> None:
    assert parse_graph_error(status, envelope(131047)).action is Action.USE_TEMPLATE
    assert parse_graph_error(status, envelope(131000)).action is Action.RETRY


@pytest.mark.parametrize(
    ("code", "scope", "delay"),
    [
        (130429, WaitScope.PHONE_NUMBER, 1.0),
        (131056, WaitScope.RECIPIENT, 6.0),
        (80007, WaitScope.ACCOUNT, 60.0),
        (4, WaitScope.APP, 60.0),
    ],
)
def test_rate_limits_carry_scope_and_delay(code: int, scope: WaitScope, delay: float) -> None:
    error = parse_graph_error(400, envelope(code))
    assert isinstance(error, GraphRateLimited)
    assert (error.scope, error.retry_after) == (scope, delay)
    assert parse_graph_error(429, envelope(code), retry_after=2.5).retry_after == 2.5


def test_operator_attention() -> None:
    assert parse_graph_error(401, envelope(190)).needs_operator
    assert parse_graph_error(400, envelope(132015)).needs_operator
    assert parse_graph_error(400, envelope(368)).needs_operator
    assert not parse_graph_error(400, envelope(131026)).needs_operator
    assert not parse_graph_error(400, envelope(131009)).needs_operator


def test_non_json_bodies() -> None:
    proxy = parse_graph_error(502, b"<html><body>Bad Gateway</body></html>")
    assert isinstance(proxy, GraphTransientError)
    assert proxy.action is Action.RETRY
    assert (proxy.code, proxy.fbtrace_id, proxy.http_status) == (None, None, 502)
    assert parse_graph_error(500, b"").action is Action.RETRY
    assert parse_graph_error(503, b"[1, 2]", retry_after=30.0).retry_after == 30.0
    assert parse_graph_error(400, b"not json").action is Action.GIVE_UP
    assert isinstance(parse_graph_error(401, b"Unauthorized"), GraphAuthError)
    limited = parse_graph_error(429, b"Too Many Requests")
    assert isinstance(limited, GraphRateLimited)
    assert limited.action is Action.WAIT
    assert limited.retry_after is not None


def test_gateway_timeout_on_a_send_is_an_unknown_outcome() -> None:
    assert parse_graph_error(504, b"<html>Gateway Timeout</html>").action is Action.RECONCILE
    assert parse_graph_error(504, b"<html>Gateway Timeout</html>", safe_to_repeat=True).action is Action.RETRY
    # Meta itself answered: its envelope decides.
    assert parse_graph_error(504, envelope(131000)).action is Action.RETRY


def test_unknown_code_marked_transient_is_retried() -> None:
    assert parse_graph_error(400, envelope(999_999, is_transient=True)).action is Action.RETRY


def test_odd_envelopes() -> None:
    assert parse_graph_error(400, orjson.dumps({"error": "boom"})).code is None
    assert parse_graph_error(400, orjson.dumps({"error": {"code": "131047"}})).action is Action.USE_TEMPLATE
    error = parse_graph_error(400, orjson.dumps({"error": {"code": 100, "error_data": "x", "fbtrace_id": 7}}))
    assert (error.details, error.fbtrace_id) == (None, None)


# Meta's codes stop well below this range, so none of these is in the table.
unknown_codes = st.integers(min_value=900_000, max_value=10_000_000)


@given(unknown_codes, st.integers(min_value=400, max_value=499).filter(lambda s: s not in (401, 403, 429)))
def test_unknown_4xx_gives_up(code: int, status: int) -> None:
    error = parse_graph_error(status, envelope(code))
    assert error.action is Action.GIVE_UP
    assert error.code == code


@given(unknown_codes, st.integers(min_value=500, max_value=599))
def test_unknown_5xx_retries(code: int, status: int) -> None:
    assert parse_graph_error(status, envelope(code)).action is Action.RETRY


def test_retry_after_header() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None


def test_transport_errors() -> None:
    unknown = GraphTimeout(request_sent=True)
    assert unknown.outcome_unknown
    assert classify(unknown) is Action.RECONCILE
    assert classify(GraphTimeout(request_sent=False)) is Action.RETRY
    assert classify(GraphTimeout(request_sent=True, operation="get_media", safe_to_repeat=True)) is Action.RETRY
    assert classify(GraphConnectionError(request_sent=False, operation="send")) is Action.RETRY
    assert classify(GraphConnectionError(request_sent=True, operation="send")) is Action.RECONCILE
    assert "after the request was sent" in str(unknown)


def test_classify_other_exceptions() -> None:
    assert classify(InvalidOutgoingMessage("body", "must not be empty")) is Action.GIVE_UP
    assert classify(MediaTooLarge(10)) is Action.GIVE_UP
    assert classify(TimeoutError()) is Action.RECONCILE
    assert classify(RuntimeError("bug")) is Action.GIVE_UP
