"""What every Graph API route shares: the `v<major>.<minor>` path segment, the bearer token, the
sandbox state, and fault injection (5xx, 429, timeouts) when fault mode asks for it."""

from __future__ import annotations

import asyncio

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request

from loket.sandbox.errors import GENERIC, INVALID_PARAMETER, SERVICE_UNAVAILABLE, GraphError
from loket.sandbox.state import SandboxState


class GraphVersionConvertor(Convertor[str]):
    regex = r"v\d+\.\d+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("graph_version", GraphVersionConvertor())

# Route prefix: `/{version}/...` for any `v<major>.<minor>`, as Graph serves every live version.
VERSION = "/{version:graph_version}"


def sandbox_state(request: Request) -> SandboxState:
    state = request.app.state.sandbox.state
    assert isinstance(state, SandboxState)
    return state


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("access_token")


def sandbox_base_url(request: Request) -> str:
    """The sandbox's own absolute root, whatever prefix it is mounted under."""
    root = request.scope.get("root_path", "")
    return f"{request.url.scheme}://{request.url.netloc}{root}".rstrip("/")


async def apply_graph_faults(request: Request) -> None:
    state = sandbox_state(request)
    faults = state.settings.faults
    roll = state.rng.random()
    if roll < faults.graph_timeout_probability:
        await asyncio.sleep(faults.graph_timeout_seconds)
        raise GraphError(SERVICE_UNAVAILABLE, "The request timed out (sandbox fault mode).", http_status=504)
    roll -= faults.graph_timeout_probability
    if roll < faults.graph_5xx_probability:
        raise GraphError(GENERIC, "An unknown error occurred (sandbox fault mode).", http_status=500)
    roll -= faults.graph_5xx_probability
    if roll < faults.graph_429_probability:
        # Graph's app-level call-rate limit; distinct from the per-number 130429.
        raise GraphError(
            4,
            "Application request limit reached (sandbox fault mode).",
            http_status=429,
            message="Application request limit reached",
        )


def json_body_error() -> GraphError:
    return GraphError(INVALID_PARAMETER, "The request body is not valid JSON.")
