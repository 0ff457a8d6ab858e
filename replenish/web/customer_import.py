"""``/customers/import``: a CSV file of customers, pasted, checked, then imported.

"Check" runs the import and rolls it back (as ``replenish customer import --dry-run``),
listing every problem as line, column, message; "Import" writes every row or none, then
refreshes the forecasts of the customers it wrote. A form without the session's CSRF
token is a 403.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session

from replenish.db.models import Shop
from replenish.db.queries.nightly import refresh_forecasts
from replenish.db.queries.registration import (
    CustomerImportError,
    import_customers,
    read_customers_csv,
)
from replenish.settings import Settings
from replenish.web.auth import CurrentUser, check_csrf, owner_page, read_form
from replenish.web.customers import tank_ids_of
from replenish.web.pages import TEMPLATES

__all__ = ["router"]

router = APIRouter(tags=["customers"])
MAX_CSV_CHARS = 2_000_000


def _import(engine: Engine, settings: Settings, shop: Shop, text: str,
            write: bool) -> dict[str, Any]:
    """Check (and roll back) or import ``text``; the page's context either way."""
    out: dict[str, Any] = {"problems": [], "rows": [], "imported": None, "checked": True}
    now = datetime.now(UTC)
    with Session(engine) as session:
        try:
            rows = read_customers_csv(text)
            if not rows:
                out["problems"] = [(1, "file", "has no customer rows under its header line")]
                return out
            results = import_customers(session=session, shop=shop, rows=rows, now=now,
                                       settings=settings)
        except CustomerImportError as error:
            session.rollback()
            out["problems"] = error.problems
            return out
        out["rows"] = [{"line": row.line, "name": r.customer.name, "phone": r.customer.phone}
                       for row, r in zip(rows, results, strict=True)]
        if not write:
            session.rollback()  # a check writes nothing
            return out
        refresh_forecasts(session=session, shop=shop, now=now, settings=settings,
                          tank_ids=tank_ids_of(session, [r.customer.id for r in results]))
        session.commit()
        out["imported"] = len(results)
        return out


@router.get("/customers/import", response_class=HTMLResponse)
async def import_page(request: Request, me: CurrentUser) -> HTMLResponse:
    user, shop = me
    return TEMPLATES.TemplateResponse(request, "import.html", owner_page(
        request, user, shop, "customers") | {
        "text": "", "problems": [], "rows": [], "imported": None, "checked": False,
        "columns": ", ".join(("name", "phone", "address", "adults", "shape", "diameter_cm",
                              "height_cm", "fill_cm"))})


@router.post("/customers/import", response_model=None)
async def import_customers_form(request: Request, me: CurrentUser) -> Response:
    user, shop = me
    form = await read_form(request)
    check_csrf(request, form)
    text = form.get("csv", "")
    base = owner_page(request, user, shop, "customers") | {"text": text, "columns": ""}
    if not text.strip():
        return TEMPLATES.TemplateResponse(request, "import.html", base | {
            "problems": [(1, "file", "is empty; paste the file, its first line naming the "
                                     "columns")], "rows": [], "imported": None,
            "checked": True}, status_code=400)
    if len(text) > MAX_CSV_CHARS:
        raise HTTPException(413, "the file is too large for one import: split it")
    write = form.get("action") == "import"
    context = await run_in_threadpool(_import, request.app.state.engine,
                                      request.app.state.settings, shop, text, write)
    status = 400 if context["problems"] else 200
    if context["imported"] is not None:
        base["text"] = ""
    return TEMPLATES.TemplateResponse(request, "import.html", base | context,
                                      status_code=status)
