"""The baseline server for bench/alerts.py: the same stack (uvicorn + Starlette) answering the events
API with 202 after reading the body, with no signature check, validation or storage."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def events(request: Request) -> Response:
    await request.body()
    return JSONResponse({"status": "accepted"}, status_code=202)


async def batch(request: Request) -> Response:
    body = await request.json()
    return JSONResponse({"accepted": len(body.get("events", [])), "rejected": 0, "results": []})


async def ready(request: Request) -> Response:
    return Response(status_code=200)


app = Starlette(
    routes=[
        Route("/v1/events", events, methods=["POST"]),
        Route("/v1/events/batch", batch, methods=["POST"]),
        Route("/readyz", ready),
    ]
)
