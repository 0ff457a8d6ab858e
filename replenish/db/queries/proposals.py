"""Proposals: the drops the shop offers. Functions add and flush; the caller commits.

A proposal is *open* while the conversation about it is still going on:

    proposed                          waiting for an answer (a reply applies to it)
    snoozed                           the customer said "later": asked again on snoozed_until
    booked, drop planned (or none)    coming; "2" / "3" may still move or skip it

and closed once it is declined or cancelled, or booked and its drop recorded (delivered,
not home, refused, cancelled). A customer has at most one open proposal at a time, so
that a reply is never ambiguous (``replenish.conversation.outgoing`` keeps to it).

``open_proposal`` finds the one a reply answers; ``open_proposals`` reads them for many
customers at once (a batch of replies), and ``is_open`` tells whether one still is after
replies moved it, without asking the database again.

``cycle_key`` (unique) names the cycle a proposal answers: ``tank:<id>:<order-by date>``,
so a plan that runs twice proposes once. A booked proposal's planned drop is keyed
``proposal:<id>`` (``plan_drop``), so it is planned once too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from replenish.core.conversation import ProposalState
from replenish.core.types import DropStatus
from replenish.db.columns import utcnow
from replenish.db.models import Customer, Drop, DropCreate, Product, Proposal, Tank
from replenish.db.queries._common import get_owned
from replenish.db.queries.tanks import record_drop

__all__ = [
    "call_list",
    "create_proposal",
    "find_proposal",
    "get_proposal",
    "is_open",
    "list_proposals",
    "open_proposal",
    "open_proposals",
    "plan_drop",
]

OPEN_STATES = (ProposalState.PROPOSED, ProposalState.SNOOZED, ProposalState.BOOKED)


def create_proposal(
    *,
    session: Session,
    tank: Tank,
    product: Product,
    customer: Customer,
    drop_on: date,
    quantity: float,
    cycle_key: str,
    state: ProposalState,
    now: datetime | None = None,
) -> Proposal:
    """Offer ``quantity`` of ``product`` into ``tank`` on ``drop_on``; the mode is the
    customer's delivery mode. The same ``cycle_key`` again returns the first row, unchanged.

    ``now`` (aware) stamps ``created_at``; the database clock when omitted.
    """
    if tank.customer_id != customer.id or tank.product_id != product.id:
        raise ValueError(f"tank {tank.id} is not customer {customer.id}'s {product.key} tank")
    existing = find_proposal(session=session, cycle_key=cycle_key)
    if existing is not None:
        return existing
    stamp = now or utcnow()
    proposal = Proposal.model_validate({
        "shop_id": customer.shop_id, "customer_id": customer.id, "tank_id": tank.id,
        "product_id": product.id, "mode": customer.delivery_mode, "state": state,
        "drop_on": drop_on, "quantity": quantity, "cycle_key": cycle_key,
        "created_at": stamp, "updated_at": stamp,
    })
    try:
        with session.begin_nested():  # a concurrent plan may insert the same cycle
            session.add(proposal)
    except IntegrityError:
        existing = find_proposal(session=session, cycle_key=cycle_key)
        if existing is None:
            raise
        return existing
    return proposal


def find_proposal(*, session: Session, cycle_key: str) -> Proposal | None:
    return session.exec(select(Proposal).where(Proposal.cycle_key == cycle_key)).first()


def get_proposal(*, session: Session, shop_id: int, proposal_id: int) -> Proposal:
    """One proposal of this shop, else NotFoundError."""
    return get_owned(session, Proposal, shop_id=shop_id, row_id=proposal_id)


def _is_open() -> ColumnElement[bool]:
    booked_and_coming = and_(
        col(Proposal.state) == ProposalState.BOOKED,
        or_(col(Proposal.drop_id).is_(None), col(Drop.status) == DropStatus.PLANNED),
    )
    waiting = col(Proposal.state).in_((ProposalState.PROPOSED, ProposalState.SNOOZED))
    return or_(waiting, booked_and_coming)


def is_open(proposal: Proposal, drop: Drop | None) -> bool:
    """What ``_is_open`` asks the database, for a proposal (and its planned drop) in hand."""
    if proposal.state in (ProposalState.PROPOSED, ProposalState.SNOOZED):
        return True
    return proposal.state is ProposalState.BOOKED and (
        proposal.drop_id is None or (drop is not None and drop.status is DropStatus.PLANNED))


def open_proposal(*, session: Session, customer_id: int) -> Proposal | None:
    """The customer's open proposal (the one a reply answers), newest first; None if none.

    Its planned drop is read in the same query (``session.get(Drop, ...)`` then costs no
    round trip while the caller holds it)."""
    row = session.exec(_open_statement(), params={"customer_id": customer_id}).first()
    return None if row is None else row[0]


def open_proposals(*, session: Session, customer_ids: Iterable[int],
                   ) -> tuple[dict[int, list[Proposal]], list[Drop]]:
    """Every open proposal of these customers, newest first per customer, and their
    planned drops, in one query. Replies may close some later: check with ``is_open``."""
    ids = sorted(set(customer_ids))
    found: dict[int, list[Proposal]] = {customer_id: [] for customer_id in ids}
    drops: list[Drop] = []
    if not ids:
        return found, drops
    for proposal, drop in session.exec(_open_statement(many=True), params={"ids": ids}).all():
        found[proposal.customer_id].append(proposal)
        if drop is not None:
            drops.append(drop)
    return found, drops


@cache
def _open_statement(*, many: bool = False) -> Any:
    """Open proposals with their drops, newest first: of one customer (``:customer_id``,
    the newest only) or of many (``:ids``). Built once: building costs more than running."""
    customer = (col(Proposal.customer_id).in_(bindparam("ids", expanding=True)) if many
                else col(Proposal.customer_id) == bindparam("customer_id"))
    statement = (
        select(Proposal, Drop)
        .outerjoin(Drop, col(Drop.id) == col(Proposal.drop_id))
        .where(customer, _is_open())
        .order_by(col(Proposal.id).desc())
    )
    return statement if many else statement.limit(1)


def list_proposals(
    *,
    session: Session,
    shop_id: int,
    customer_id: int | None = None,
    tank_id: int | None = None,
    states: Collection[ProposalState] | None = None,
    only_open: bool = False,
    on_call_list: bool | None = None,
    limit: int | None = None,
) -> Sequence[Proposal]:
    """The shop's proposals, newest first, narrowed by the arguments given."""
    statement = (
        select(Proposal)
        .outerjoin(Drop, col(Drop.id) == col(Proposal.drop_id))
        .where(Proposal.shop_id == shop_id)
    )
    if customer_id is not None:
        statement = statement.where(Proposal.customer_id == customer_id)
    if tank_id is not None:
        statement = statement.where(Proposal.tank_id == tank_id)
    if states is not None:
        statement = statement.where(col(Proposal.state).in_(list(states)))
    if only_open:
        statement = statement.where(_is_open())
    if on_call_list is not None:
        statement = statement.where(col(Proposal.on_call_list).is_(on_call_list))
    return session.exec(statement.order_by(col(Proposal.id).desc()).limit(limit)).all()


def call_list(*, session: Session, shop_id: int) -> Sequence[Proposal]:
    """Whom the owner should phone: unanswered proposals marked ``on_call_list``, the
    soonest drop day first. An answer (or the owner booking it) takes them off."""
    statement = (
        select(Proposal)
        .where(
            Proposal.shop_id == shop_id,
            col(Proposal.on_call_list).is_(True),
            col(Proposal.state) == ProposalState.PROPOSED,
        )
        .order_by(col(Proposal.drop_on), col(Proposal.id))
    )
    return session.exec(statement).all()


def plan_drop(*, session: Session, proposal: Proposal, note: str = "") -> Drop:
    """The planned drop of a booked proposal (key ``proposal:<id>``: planned once), linked
    to it. ``note`` is what the courier's stop says ("loyalty: on the house")."""
    if proposal.state is not ProposalState.BOOKED:
        raise ValueError(f"proposal {proposal.id} is {proposal.state.value}; only a booked "
                         "proposal has a planned drop")
    tank = session.get(Tank, proposal.tank_id)
    assert tank is not None
    drop = record_drop(session=session, tank=tank, drop_in=DropCreate(
        delivered_on=proposal.drop_on, quantity=proposal.quantity, status=DropStatus.PLANNED,
        idempotency_key=f"proposal:{proposal.id}", note=note))
    if proposal.drop_id != drop.id:
        proposal.drop_id = drop.id
        session.add(proposal)
    session.flush()
    return drop
