"""The Graph API error envelope, and the codes the sandbox answers with (reference section 4.5)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

JsonObject = dict[str, Any]

INVALID_PARAMETER = 100
ACCESS_TOKEN = 190
GENERIC = 131000
THROUGHPUT = 130429
REQUIRED_PARAMETER = 131008
INVALID_VALUE = 131009
SERVICE_UNAVAILABLE = 131016
SAME_NUMBER = 131021
UNDELIVERABLE = 131026
RE_ENGAGEMENT = 131047
MEDIA_UPLOAD = 131053
PAIR_RATE = 131056
TEMPLATE_PARAMETER_COUNT = 132000
TEMPLATE_MISSING = 132001
TEMPLATE_PARAMETER_FORMAT = 132012

TITLES: dict[int, str] = {
    INVALID_PARAMETER: "Invalid parameter",
    ACCESS_TOKEN: "Invalid OAuth access token - Cannot parse access token",
    GENERIC: "Something went wrong",
    THROUGHPUT: "Rate limit hit",
    REQUIRED_PARAMETER: "Required parameter is missing",
    INVALID_VALUE: "Parameter value is not valid",
    SERVICE_UNAVAILABLE: "Service unavailable",
    SAME_NUMBER: "Recipient cannot be sender",
    UNDELIVERABLE: "Message undeliverable",
    RE_ENGAGEMENT: "Re-engagement message",
    MEDIA_UPLOAD: "Media upload error",
    PAIR_RATE: "(Business Account, Consumer Account) pair rate limit hit",
    TEMPLATE_PARAMETER_COUNT: "Number of parameters does not match the expected number of params",
    TEMPLATE_MISSING: "Template name does not exist in the translation",
    TEMPLATE_PARAMETER_FORMAT: "Parameter format does not match format in the created template",
}

_HTTP_STATUS = {ACCESS_TOKEN: 401, THROUGHPUT: 429, GENERIC: 500, SERVICE_UNAVAILABLE: 503}


class GraphError(Exception):
    """An error the Graph API would answer with. `http_status` defaults by code: Meta's own mapping is
    unconfirmed, so business errors are 400, token errors 401 and throughput 429."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        message: str | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
    ) -> None:
        self.code = code
        self.details = details
        self.title = message or TITLES.get(code, "Invalid parameter")
        self.http_status = http_status or _HTTP_STATUS.get(code, 400)
        self.subcode = subcode
        super().__init__(f"({code}) {self.title}")

    def envelope(self) -> JsonObject:
        error: JsonObject = {
            "message": f"(#{self.code}) {self.title}",
            "type": "OAuthException",
            "code": self.code,
        }
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def webhook_error(self) -> JsonObject:
        """The shape used in a `failed` status's `errors[]`."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details or self.title},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }


def fbtrace_id() -> str:
    return secrets.token_urlsafe(8)


def unknown_node(node_id: str) -> GraphError:
    return GraphError(
        INVALID_PARAMETER,
        message=(
            f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation."
        ),
        subcode=33,
    )


def json_response(data: object, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json", headers=headers)


async def graph_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    headers = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'} if exc.code == ACCESS_TOKEN else None
    return json_response(exc.envelope(), exc.http_status, headers)
