"""Liveness, readiness (the database answers, the schema is current) and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from loket import __version__
from loket.db.engine import Database
from loket.db.migrate import SchemaError, check_schema


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(self, request: Request) -> Response:
        try:
            await self._db.ping()
            await check_schema(self._db)
        except SchemaError as exc:
            return JSONResponse({"status": "unavailable", "database": "schema", "detail": str(exc)}, status_code=503)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ready", "database": self._db.dialect})

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
