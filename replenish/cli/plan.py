"""``replenish plan``: what the nightly plan would do tonight, and why; --apply does it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from jobs.conversation import plan_shop
from replenish.cli.common import (
    JsonOption,
    ShopOption,
    current_shop,
    database,
    fail,
    print_json,
    print_table,
    settings,
)
from replenish.conversation.outgoing import Action, Decision

_COUNTED = (("prompts", Action.PROMPT), ("bookings", Action.BOOK),
            ("reminders", Action.REMIND), ("call_list", Action.CALL_LIST),
            ("moved", Action.MOVE), ("closed", Action.CLOSE), ("skipped", Action.SKIP))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Plan as the nightly run (jobs.nightly_plan_at, 21:00 by default) on this date (the shop's time zone) would; today or later. Default: now.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Do it: save the proposals and bookings and queue the texts. Without it nothing is saved.")] = False,
    shop_id: ShopOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who gets a prompt, who is booked, reminded or put on the call list, and why.

    Refreshes every forecast, sends reminders due and makes proposals, as the nightly
    plan does: a confirm customer due within 3 days gets a prompt, an auto customer a
    booking and a heads-up, a will-call customer a reminder. Each customer considered
    is listed with the reason (opted out, on hold, prompt cap...). Texts wait for the
    end of quiet hours. Without --apply nothing is saved.

    Examples:

      replenish plan

      replenish plan --as-of 2026-12-01 --json

      replenish plan --apply
    """
    cfg = settings()
    with database(cfg) as session:
        shop = current_shop(session, shop_id)
        tz = ZoneInfo(shop.timezone)
        now = _moment(as_of, tz, cfg.jobs.nightly_plan_at)
        refreshed, reminded, proposed = plan_shop(session=session, shop=shop, now=now,
                                                  settings=cfg)
        decisions = (*reminded.decisions, *proposed.decisions)
        made = set() if apply else {d.proposal_id for d in proposed.decisions
                                    if d.action in (Action.PROMPT, Action.BOOK, Action.REMIND)}
        rows = [_row(d, tz, unsaved=made) for d in decisions]
        counts = Counter(d.action for d in decisions)
        if not apply:
            session.rollback()
    summary = {name: counts[action] for name, action in _COUNTED}
    summary["not_due"] = proposed.not_due
    if as_json:
        print_json({"now": now.astimezone(tz).isoformat(), "applied": apply,
                    "forecasts": refreshed.forecast, "counts": summary, "decisions": rows})
        return
    _print(rows, summary, now.astimezone(tz), applied=apply)


def _moment(as_of: str | None, tz: ZoneInfo, nightly_at: time) -> datetime:
    now = datetime.now(UTC)
    if as_of is None:
        return now
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date; write it like 2026-12-01")
    if day < now.astimezone(tz).date():
        fail(f"--as-of {as_of} is in the past; the plan looks ahead (today or later). "
             "To see past forecasts use `replenish forecast --as-of`")
    return max(datetime.combine(day, nightly_at, tzinfo=tz).astimezone(UTC), now)


def _row(d: Decision, tz: ZoneInfo, *, unsaved: set[int | None]) -> dict[str, Any]:
    return {
        "customer_id": d.customer_id, "customer": d.customer, "product": d.product,
        "tank_id": d.tank_id, "action": d.action.value, "reason": d.reason,
        "drop_on": d.drop_on and d.drop_on.isoformat(), "quantity": d.quantity,
        "send_at": d.send_at and d.send_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        # a dry run's new proposals are never saved: their ids would mean nothing
        "proposal_id": None if d.proposal_id in unsaved else d.proposal_id,
    }


def _print(rows: list[dict[str, Any]], summary: dict[str, int], now: datetime, *,
           applied: bool) -> None:
    typer.echo(f"plan as of {now:%Y-%m-%d %H:%M} ({now.tzinfo})")
    if rows:
        header = ("id", "customer", "product", "action", "drop", "text at", "why")
        print_table(header, [(
            str(r["customer_id"]), r["customer"], r["product"] or "", r["action"],
            _drop(r), r["send_at"] or "", r["reason"]) for r in rows])
    done = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in summary.items() if n)
    typer.echo(done or "nothing to do")
    typer.echo("saved" if applied else "dry run: nothing saved (add --apply to do it)")


def _drop(r: dict[str, Any]) -> str:
    if r["drop_on"] is None:
        return ""
    quantity = f" {r['quantity']:g}" if r["quantity"] is not None else ""
    return f"{r['drop_on']}{quantity}"
