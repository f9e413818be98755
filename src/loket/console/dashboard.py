"""The supervisor dashboard page and its CSV export (`reports.read`), per tenant and period."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from loket import audit
from loket.audit import EventType
from loket.console.charts import bar_chart
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.render import render, svg, translator
from loket.console.stats import Dashboard, Group, build_dashboard
from loket.staff.web.deps import http_errors

Reporter = Annotated[ConsoleUser, Depends(page_user("reports.read"))]
Days = Annotated[int, Query(ge=1, le=90)]
PERIODS = (1, 7, 30, 90)


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _rows(board: Dashboard) -> list[list[str]]:
    head = ["scope", "name", "open", "waiting", "handled", "first_response_median_min", "resolution_median_min"]
    head += ["csat_average", "csat_answers"]
    rows = [head]

    def line(scope: str, group: Group) -> list[str]:
        return [
            scope,
            group.name,
            str(group.open),
            str(group.waiting),
            str(group.handled),
            _minutes(group.first_response_median),
            _minutes(group.resolution_median),
            "" if group.csat_average is None else str(group.csat_average),
            str(len(group.csat)),
        ]

    overall = line("tenant", board.overall)
    overall[2], overall[3] = str(board.open_now + board.waiting_now), str(board.waiting_now)
    rows.append(overall)
    rows += [line("agent", g) for g in board.agents]
    rows += [line("team", g) for g in board.teams]
    containment = "" if board.containment is None else str(board.containment)
    rows.append(["containment", "bot", str(board.conversations), "", str(board.handoffs), "", "", "", containment])
    return rows


def add_dashboard_routes(router: APIRouter) -> None:
    @router.get("/dashboard")
    async def dashboard(request: Request, user: Reporter, days: Days = 7) -> Response:
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                board = await build_dashboard(session, tenant_id, now=clock.now(), days=days)
        _ = translator(user.language)
        per_day = bar_chart(_("console.dashboard.chart_daily"), board.per_day)
        agents = [(g.name, round((g.first_response_median or 0) / 60, 1)) for g in board.agents]
        first_response = bar_chart(
            _("console.dashboard.first_response"), agents, value_label=_("console.dashboard.minutes", value="{value}")
        )
        context = {
            "board": board,
            "days": days,
            "periods": PERIODS,
            "chart_daily": svg(per_day),
            "chart_agents": svg(first_response) if agents else None,
            "minutes": _minutes,
        }
        return render(request, "console/dashboard.html", context)

    @router.get("/dashboard.csv")
    async def dashboard_csv(request: Request, user: Reporter, days: Days = 7) -> Response:
        """The dashboard's table as CSV (no customer data: aggregates and staff names); audited as an export."""
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        now = clock.now()
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                board = await build_dashboard(session, tenant_id, now=now, days=days)
                buffer = io.StringIO()
                csv.writer(buffer).writerows(_rows(board))
                body = buffer.getvalue().encode()
                digest = hashlib.sha256(body).hexdigest()
                await audit.record(
                    EventType.EXPORT_CREATED,
                    tenant=tenant_id,
                    fields={
                        "export": f"console-dashboard:{digest[:16]}",
                        "kind": "console_dashboard_csv",
                        "by": f"staff:{user.user_id}",
                        "rows": len(board.agents) + len(board.teams) + 2,
                        "sha256": digest,
                    },
                    actor=f"staff:{user.user_id}",
                    at=now,
                    session=session,
                )
        filename = f"loket-dashboard-{tenant_id}-{now.date().isoformat()}-{days}d.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )
