"""The baseline server for bench/webhook_ingest.py: the same stack (uvicorn + Starlette) answering 200
after reading the body, with no signature check, parsing or storage."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def webhook(request: Request) -> Response:
    await request.body()
    return Response(status_code=200)


async def ready(request: Request) -> Response:
    return Response(status_code=200)


app = Starlette(routes=[Route("/webhooks/whatsapp", webhook, methods=["POST"]), Route("/readyz", ready)])
