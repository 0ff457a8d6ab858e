"""Courier links: a route id and an expiry, signed so that nobody can make or change one.

A link opens one courier's route for one day and nothing else; it stops working at
``expires`` (the caller picks it: ``web.courier_link_hours`` after it is sent). The
token is itsdangerous' URL-safe signature over JSON; the expiry is checked against the
``now`` the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

__all__ = ["LinkError", "RouteLink", "read_link", "sign_link"]

_SALT = "replenish.courier-route"


class LinkError(ValueError):
    """A link that was changed, made with another key, or has expired."""


@dataclass(frozen=True)
class RouteLink:
    route_id: int
    courier_id: int
    expires: datetime


def sign_link(link: RouteLink, *, key: str) -> str:
    payload = {"r": link.route_id, "c": link.courier_id, "e": int(link.expires.timestamp())}
    return str(URLSafeSerializer(key, salt=_SALT).dumps(payload))


def read_link(token: str, *, key: str, now: datetime) -> RouteLink:
    try:
        payload = URLSafeSerializer(key, salt=_SALT).loads(token)
        link = RouteLink(int(payload["r"]), int(payload["c"]),
                         datetime.fromtimestamp(int(payload["e"]), UTC))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkError("this link is not valid: ask the shop for today's link") from None
    if now >= link.expires:
        raise LinkError("this link has expired: ask the shop for today's link")
    return link
