"""The templates every page shares, and their translations.

Pages are written in English inside ``{{ _("...") }}``; ``replenish/web/i18n/<locale>.json``
and ``<locale>.<area>.json`` (one file per group of pages) map each English text to its
translation (zh-TW, zh-CN). A text missing from a catalog
shows in English (tests/web/test_i18n.py checks that the catalogs are complete). The
locale comes from the page's context: the signed-in user's, or the shop's on pages
without a user (sign-in, the courier's route).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

__all__ = ["CATALOG_DIR", "TEMPLATES", "catalog", "translate"]

CATALOG_DIR = Path(__file__).parent / "i18n"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@cache
def catalog(locale: str) -> dict[str, str]:
    """Every translation into ``locale``, from all of its catalog files."""
    data: dict[str, str] = {}
    for path in sorted(CATALOG_DIR.glob(f"{locale}.json")) + sorted(
            CATALOG_DIR.glob(f"{locale}.*.json")):
        data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def translate(locale: str, text: str, **values: Any) -> str:
    """``text`` in ``locale`` (English when there is no translation), filled with
    ``values`` (``{name}`` fields)."""
    out = catalog(locale).get(text, text)
    return out.format(**values) if values else out


@pass_context
def _gettext(context: Context, text: str, **values: Any) -> str:
    return translate(str(context.get("locale") or "en"), text, **values)


TEMPLATES.env.globals["_"] = _gettext
