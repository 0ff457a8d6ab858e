"""Words of the trade shared by every layer: units, shapes, modes, sources.

These are plain ``str`` enums so that they store as readable text in the
database, print as themselves in the CLI and serialise to JSON unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """The unit a product is counted in."""

    KG = "kg"
    L = "L"
    UNIT = "unit"


class TankShape(StrEnum):
    """How a tank's size was measured."""

    CYLINDER = "cylinder"  # diameter_cm, height_cm
    BOX = "box"  # width_cm, depth_cm, height_cm
    CAPACITY = "capacity"  # capacity entered directly in the product's unit


class DeliveryMode(StrEnum):
    """What standing consent a customer has given."""

    CONFIRM = "confirm"  # ask before every drop (the default)
    AUTO = "auto"  # standing consent: heads-up only
    WILL_CALL = "will-call"  # remind only; the customer calls the shop


class ReadingSource(StrEnum):
    """Who observed a level. It sets how much the reading is trusted."""

    COURIER = "courier"  # measured at the door (depth with a tape, or an amount)
    CUSTOMER = "customer"  # said in a reply ("half left", "almost empty")
    OWNER = "owner"  # typed by the shop owner


class HoldKind(StrEnum):
    """A date range in which the household is away or does not want drops."""

    AWAY = "away"  # nobody home: no consumption and no deliveries
    NO_DELIVERY = "no-delivery"  # eating as usual, but do not deliver
    NO_CONSUMPTION = "no-consumption"  # home, but not using the product


class MemberKind(StrEnum):
    """Kinds of household member that have their own per-person prior."""

    ADULT = "adult"
    CHILD = "child"
    ELDER = "elder"


class DropStatus(StrEnum):
    """Where a drop (a delivery) stands."""

    PLANNED = "planned"
    DELIVERED = "delivered"
    NOT_HOME = "not-home"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Locale(StrEnum):
    EN = "en"
    ZH_TW = "zh-TW"
    ZH_CN = "zh-CN"
