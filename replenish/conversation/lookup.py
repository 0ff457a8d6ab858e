"""What applying customers' texts reads, kept for one session (a batch of texts).

``InboundLookup`` answers ``replenish.conversation.inbound``'s questions (the shop and its
products, the customer, the open proposal with its planned drop, the tanks with their
forecasts) from what it has read, reading each once; ``preload`` reads them for a whole
batch in a few queries. The queries are built once per process (``_statement``):
building a statement cost more than running it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from replenish.core.conversation import TankRoom
from replenish.db.models import (
    Customer,
    Drop,
    InboundMessage,
    Product,
    Proposal,
    Shop,
    Tank,
    TankForecast,
)
from replenish.db.queries.proposals import is_open, open_proposal, open_proposals
from replenish.db.queries.shops import list_products

__all__ = ["CustomerTanks", "InboundLookup"]


@dataclass
class CustomerTanks:
    """The customer's tanks by product key, the room in each, and their forecasts."""

    tank: dict[str, Tank] = field(default_factory=dict)
    rooms: dict[str, TankRoom] = field(default_factory=dict)
    forecast: dict[int, TankForecast | None] = field(default_factory=dict)  # by tank id


class InboundLookup:
    """What applying texts reads, kept for one session (a batch of texts).

    Without ``preload`` each thing is read when first asked for. ``preload(texts)`` reads
    them for every text in a few queries: the shops, their products, the customers, their
    open proposals (with planned drops) and their tanks (with forecasts). A text changes
    proposals, drops and forecasts through the same ORM objects, so later texts of the
    batch see those changes; tanks and products are not changed by texts. (A batch that
    fails is rolled back as a whole, and its lookup thrown away with its session.)

    The rows are kept here by id (the session's identity map holds them only weakly, and
    even a hit there costs more than a dict); the statements are built once per process.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._shops: dict[int, Shop] = {}
        self._customers: dict[int, Customer] = {}
        self._products: dict[int, dict[str, Product]] = {}
        self._proposals: dict[int, list[Proposal]] = {}  # open when read, newest first
        self._drops: dict[int, Drop] = {}
        self._tanks: dict[int, list[tuple[Tank, TankForecast | None]]] = {}
        self._tank_by_id: dict[int, Tank] = {}

    def preload(self, texts: Iterable[InboundMessage]) -> None:
        session = self.session
        texts = list(texts)
        shop_ids = sorted({t.shop_id for t in texts} - set(self._products))
        customer_ids = sorted({t.customer_id for t in texts if t.customer_id is not None}
                              - set(self._tanks))
        if shop_ids:
            for shop in session.exec(_statement("shops"), params={"ids": shop_ids}):
                self._keep_shop(shop)
            for shop_id in shop_ids:
                self._products[shop_id] = {}
            for product in session.exec(_statement("products"), params={"ids": shop_ids}):
                self._products[product.shop_id][product.key] = product
        if not customer_ids:
            return
        for customer in session.exec(_statement("customers"), params={"ids": customer_ids}):
            assert customer.id is not None
            self._customers[customer.id] = customer
        proposals, drops = open_proposals(session=session, customer_ids=customer_ids)
        self._proposals.update(proposals)
        for drop in drops:
            self.keep_drop(drop)
        for customer_id in customer_ids:
            self._tanks[customer_id] = []
        for tank, forecast in session.exec(_statement("tanks"), params={"ids": customer_ids}):
            self._keep_tank(tank, forecast)

    def shop(self, shop_id: int) -> Shop:
        if shop_id not in self._shops:
            shop = self.session.get(Shop, shop_id)
            assert shop is not None
            self._keep_shop(shop)
        return self._shops[shop_id]

    def customer(self, customer_id: int) -> Customer | None:
        if customer_id not in self._customers:
            customer = self.session.get(Customer, customer_id)
            if customer is None:
                return None
            self._customers[customer_id] = customer
        return self._customers[customer_id]

    def products(self, shop_id: int) -> dict[str, Product]:
        """The shop's products by key, in id order."""
        if shop_id not in self._products:
            self._products[shop_id] = {p.key: p for p in
                                       list_products(session=self.session, shop_id=shop_id)}
        return self._products[shop_id]

    def open_proposal(self, customer_id: int) -> Proposal | None:
        if customer_id not in self._proposals:
            row = open_proposal(session=self.session, customer_id=customer_id)
            self._proposals[customer_id] = [] if row is None else [row]
        for row in self._proposals[customer_id]:
            if is_open(row, self.drop(row.drop_id)):
                return row
        return None

    def drop(self, drop_id: int | None) -> Drop | None:
        if drop_id is None:
            return None
        if drop_id not in self._drops:
            drop = self.session.get(Drop, drop_id)
            if drop is None:
                return None
            self.keep_drop(drop)
        return self._drops[drop_id]

    def keep_proposal(self, row: Proposal) -> None:
        """A proposal made while applying a text: later texts of the batch find it."""
        self._proposals.setdefault(row.customer_id, []).insert(0, row)

    def keep_drop(self, drop: Drop) -> None:
        """A drop read or planned: later texts of the batch find it here."""
        assert drop.id is not None
        self._drops[drop.id] = drop

    def tanks(self, customer: Customer) -> list[tuple[Tank, TankForecast | None]]:
        """The customer's tanks in id order, each with its forecast (None: none yet)."""
        assert customer.id is not None
        if customer.id not in self._tanks:
            self._tanks[customer.id] = []
            for tank, forecast in self.session.exec(
                    _statement("tanks_of"),
                    params={"shop_id": customer.shop_id, "customer_id": customer.id}):
                self._keep_tank(tank, forecast)
        return self._tanks[customer.id]

    def tank(self, tank_id: int) -> Tank:
        tank = self._tank_by_id.get(tank_id) or self.session.get(Tank, tank_id)
        assert tank is not None
        return tank

    def _keep_shop(self, shop: Shop) -> None:
        assert shop.id is not None
        self._shops[shop.id] = shop

    def _keep_tank(self, tank: Tank, forecast: TankForecast | None) -> None:
        assert tank.id is not None
        self._tanks.setdefault(tank.customer_id, []).append((tank, forecast))
        self._tank_by_id[tank.id] = tank


@cache
def _statement(name: str) -> Any:
    """The lookup's queries, built once (building one costs more than running it)."""
    ids: Any = bindparam("ids", expanding=True)
    tanks = (select(Tank, TankForecast)
             .outerjoin(TankForecast, col(TankForecast.tank_id) == col(Tank.id))
             .order_by(col(Tank.id)))
    if name == "shops":
        return select(Shop).where(col(Shop.id).in_(ids))
    if name == "products":
        return select(Product).where(col(Product.shop_id).in_(ids)).order_by(col(Product.id))
    if name == "customers":
        return select(Customer).where(col(Customer.id).in_(ids))
    if name == "tanks":
        return tanks.where(col(Tank.customer_id).in_(ids))
    assert name == "tanks_of"
    return tanks.where(col(Tank.shop_id) == bindparam("shop_id"),
                       col(Tank.customer_id) == bindparam("customer_id"))
