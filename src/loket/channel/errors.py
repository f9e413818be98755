"""Typed errors of the WhatsApp channel, and what the caller should do about each one.

Meta advises keying off `error.code` (and `error_data.details`), not the HTTP status or the message
text, and the status per code is not documented; so a known code decides, and the status only
decides codes we do not know. Every code we act on is in `_RULES`, in one place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import orjson

from loket.channel.limits import PAIR_RATE_INTERVAL_SECONDS


class Action(enum.StrEnum):
    """What to do with a request that failed."""

    RETRY = "retry"
    """Transient: send the same request again after an exponential back-off."""
    WAIT = "wait"
    """Rate limited: hold off for `retry_after` seconds across `scope`, then send again."""
    USE_TEMPLATE = "use_template"
    """The customer service window is closed: only an approved template may be sent."""
    RECONCILE = "reconcile"
    """The request may have been processed: learn the outcome from status webhooks, do not resend."""
    GIVE_UP = "give_up"
    """Sending again will not help now."""


class WaitScope(enum.StrEnum):
    """What a rate limit covers, so the caller backs off exactly that and nothing more."""

    APP = "app"  # the Meta app, shared by every tenant
    ACCOUNT = "account"  # the WhatsApp Business Account
    PHONE_NUMBER = "phone_number"  # the sending number
    RECIPIENT = "recipient"  # this business-to-user pair only


class ChannelError(Exception):
    """Base of every error the channel raises."""

    @property
    def action(self) -> Action:
        return Action.GIVE_UP


class InvalidOutgoingMessage(ChannelError, ValueError):
    """The message breaks a Cloud API rule; it was not sent. The reason never quotes the value."""

    def __init__(self, field_path: str, reason: str) -> None:
        super().__init__(f"{field_path}: {reason}")
        self.field_path = field_path
        self.reason = reason


class UnsafeMediaUrl(ChannelError, ValueError):
    """A media URL the client refuses to send a token to."""


class MediaTooLarge(ChannelError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"media is larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class GraphError(ChannelError):
    """Meta answered with an error (or with something that was not the expected answer).

    `message` and `details` are kept for operators but left out of `str()`: they can quote the
    recipient or a parameter value, and exceptions end up in logs.
    """

    def __init__(
        self,
        *,
        http_status: int,
        code: int | None,
        action: Action,
        subcode: int | None = None,
        error_type: str | None = None,
        message: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool | None = None,
        scope: WaitScope | None = None,
        retry_after: float | None = None,
        needs_operator: bool = False,
    ) -> None:
        super().__init__(
            f"Graph API error http_status={http_status} code={code} subcode={subcode} "
            f"fbtrace_id={fbtrace_id} action={action.value}"
        )
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.message = message
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.scope = scope
        self.retry_after = retry_after
        self.needs_operator = needs_operator
        self._action = action

    @property
    def action(self) -> Action:
        return self._action


class GraphTransientError(GraphError):
    """Meta or a proxy in front of it failed; usually worth another try."""


class GraphRateLimited(GraphError):
    """A throughput, pair-rate or API-call limit; `scope` and `retry_after` say how to back off."""


class GraphReengagementRequired(GraphError):
    """131047: more than 24 h since the customer last wrote; send a template instead."""


class GraphRecipientError(GraphError):
    """This recipient cannot or should not get this message now (not on WhatsApp, opted out, capped)."""


class GraphRequestError(GraphError):
    """Our request is wrong: a parameter, a template, a flow or a media file."""


class GraphAuthError(GraphError):
    """The token is invalid or lacks a permission; an operator has to fix the tenant's setup."""


class GraphAccountError(GraphError):
    """The account or number is blocked, restricted or unregistered; an operator has to act."""


class GraphBadResponse(GraphError):
    """A 2xx answer that is not the documented body (e.g. a proxy's page)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: type[GraphError]
    action: Action
    scope: WaitScope | None = None
    delay: float | None = None
    needs_operator: bool = False


_RETRY = _Rule(GraphTransientError, Action.RETRY)
_RECIPIENT = _Rule(GraphRecipientError, Action.GIVE_UP)
_REQUEST = _Rule(GraphRequestError, Action.GIVE_UP)
_SETUP = _Rule(GraphRequestError, Action.GIVE_UP, needs_operator=True)
_AUTH = _Rule(GraphAuthError, Action.GIVE_UP, needs_operator=True)
_ACCOUNT = _Rule(GraphAccountError, Action.GIVE_UP, needs_operator=True)

# Codes and meanings: docs/reference whatsapp-cloud-api.md section 4.5. Delays are our own choice
# where Meta publishes none.
_RULES: dict[int, _Rule] = {
    # Transient.
    1: _RETRY,  # API unknown
    2: _RETRY,  # API service
    131000: _RETRY,  # something went wrong
    131016: _RETRY,  # service temporarily unavailable
    # Rate limits.
    4: _Rule(GraphRateLimited, Action.WAIT, WaitScope.APP, 60.0),
    80007: _Rule(GraphRateLimited, Action.WAIT, WaitScope.ACCOUNT, 60.0),
    130429: _Rule(GraphRateLimited, Action.WAIT, WaitScope.PHONE_NUMBER, 1.0),
    131056: _Rule(GraphRateLimited, Action.WAIT, WaitScope.RECIPIENT, PAIR_RATE_INTERVAL_SECONDS),
    # Maintenance, e.g. the minute a throughput upgrade takes.
    131057: _Rule(GraphRateLimited, Action.WAIT, WaitScope.PHONE_NUMBER, 60.0),
    # The customer service window.
    131047: _Rule(GraphReengagementRequired, Action.USE_TEMPLATE),
    # The recipient.
    130472: _RECIPIENT,  # in a marketing experiment group
    130497: _RECIPIENT,  # country not allowed for this account
    131021: _RECIPIENT,  # recipient is the sender
    131026: _RECIPIENT,  # undeliverable: not on WhatsApp, old client, terms not accepted
    131030: _RECIPIENT,  # not on the test allow-list
    131049: _RECIPIENT,  # marketing per-user cap: Meta asks not to retry now
    131050: _RECIPIENT,  # opted out of marketing
    131062: _RECIPIENT,  # business-scoped user id not supported
    # Our request.
    100: _REQUEST,  # invalid parameter
    131008: _REQUEST,  # required parameter missing
    131009: _REQUEST,  # parameter value invalid
    131051: _REQUEST,  # unsupported message type
    131052: _REQUEST,  # media download error
    131053: _REQUEST,  # media upload error
    132000: _REQUEST,  # template parameter count mismatch
    132005: _REQUEST,  # translated text too long
    132008: _REQUEST,  # template parameter invalid
    132012: _REQUEST,  # template parameter format mismatch
    135000: _REQUEST,  # generic user error
    137000: _REQUEST,  # identity key hash mismatch
    # Our set-up: templates and flows an operator has to fix.
    132001: _SETUP,  # template missing for the language, or not approved
    132007: _SETUP,  # template content violates policy
    132015: _SETUP,  # template paused
    132016: _SETUP,  # template disabled
    132068: _SETUP,  # flow blocked
    132069: _SETUP,  # flow throttled
    # Token and permissions.
    0: _AUTH,
    3: _AUTH,
    10: _AUTH,
    190: _AUTH,
    131005: _AUTH,
    # The account or number.
    368: _ACCOUNT,  # temporarily blocked for a policy violation
    131031: _ACCOUNT,  # account locked or restricted
    131037: _ACCOUNT,  # no approved display name
    131042: _ACCOUNT,  # payment or eligibility
    131045: _ACCOUNT,  # certificate or registration
    131048: _ACCOUNT,  # spam rate limit: sending more makes it worse
    131063: _ACCOUNT,  # marketing templates disabled on Cloud API
    131064: _ACCOUNT,  # messaging limit reached after classification violations
    133010: _ACCOUNT,  # number not registered
    133016: _ACCOUNT,  # too many register attempts
}
_PERMISSION_CODES = range(200, 300)  # "permission not granted" family

_UNKNOWN_RATE_LIMIT_DELAY = 10.0
_GATEWAY_TIMEOUT = 504


def _lookup(code: int) -> _Rule | None:
    if code in _PERMISSION_CODES:
        return _AUTH
    return _RULES.get(code)


def _fallback(http_status: int, is_transient: bool | None, *, safe_to_repeat: bool) -> _Rule:
    """The rule for a code we do not know, or an answer without a Meta envelope."""
    if http_status == _GATEWAY_TIMEOUT and not safe_to_repeat:
        # A gateway that gave up waiting: the request may have reached Meta.
        return _Rule(GraphTransientError, Action.RECONCILE)
    if http_status >= 500 or is_transient:
        return _RETRY
    if http_status == 429:
        return _Rule(GraphRateLimited, Action.WAIT, WaitScope.APP, _UNKNOWN_RATE_LIMIT_DELAY)
    if http_status in (401, 403):
        return _AUTH
    return _REQUEST


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header; the HTTP-date form is ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def parse_graph_error(
    http_status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    safe_to_repeat: bool = False,
) -> GraphError:
    """Build the typed error for a non-2xx answer, Meta's envelope or not.

    `safe_to_repeat` is False for sends: there a lost answer means an unknown outcome.
    """
    envelope = _envelope(body)
    code = _int(envelope.get("code"))
    is_transient = envelope.get("is_transient")
    transient = is_transient if isinstance(is_transient, bool) else None
    known = None if code is None else _lookup(code)
    if known is not None:
        rule = known
    elif envelope:
        # A Meta envelope with a code we do not know: the 504 gateway rule does not apply.
        rule = _fallback(http_status, transient, safe_to_repeat=True)
    else:
        rule = _fallback(http_status, transient, safe_to_repeat=safe_to_repeat)
    error_data = envelope.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    if rule.action is Action.WAIT:
        delay = retry_after if retry_after is not None else rule.delay
    else:
        delay = retry_after
    return rule.kind(
        http_status=http_status,
        code=code,
        action=rule.action,
        subcode=_int(envelope.get("error_subcode")),
        error_type=_str(envelope.get("type")),
        message=_str(envelope.get("message")),
        details=_str(details),
        fbtrace_id=_str(envelope.get("fbtrace_id")),
        is_transient=transient,
        scope=rule.scope,
        retry_after=delay,
        needs_operator=rule.needs_operator,
    )


def _envelope(body: bytes) -> dict[str, object]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    error = decoded.get("error")
    return error if isinstance(error, dict) else {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class GraphTransportError(ChannelError):
    """No HTTP answer came back.

    `request_sent` says whether any of the request reached the wire. If it did, and the operation is
    not safe to repeat (a send), Meta may have accepted it: the outcome is unknown and has to be
    reconciled from status webhooks (`biz_opaque_callback_data`), not resent blindly.
    """

    def __init__(self, request_sent: bool, *, operation: str = "request", safe_to_repeat: bool = False) -> None:
        phase = "after the request was sent" if request_sent else "before the request was sent"
        super().__init__(f"{type(self).__name__} during {operation} {phase}")
        self.request_sent = request_sent
        self.operation = operation
        self.safe_to_repeat = safe_to_repeat

    @property
    def outcome_unknown(self) -> bool:
        return self.request_sent and not self.safe_to_repeat

    @property
    def action(self) -> Action:
        return Action.RECONCILE if self.outcome_unknown else Action.RETRY


class GraphTimeout(GraphTransportError):
    pass


class GraphConnectionError(GraphTransportError):
    pass


def classify(exc: BaseException) -> Action:
    """What to do after `exc` was raised by a channel call."""
    if isinstance(exc, ChannelError):
        return exc.action
    if isinstance(exc, TimeoutError):
        # A timeout from outside the client (e.g. a caller's deadline): we cannot tell whether the
        # request left, so assume it did.
        return Action.RECONCILE
    return Action.GIVE_UP
