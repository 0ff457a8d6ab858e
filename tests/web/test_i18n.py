"""Every text a page shows has its translation in each catalog, and only those."""

import json
import re
from pathlib import Path

import pytest

from replenish.core.types import TankShape
from replenish.db.models import MessageStatus, StopStatus
from replenish.web.pages import CATALOG_DIR, translate

TEMPLATES = Path(__file__).resolve().parents[2] / "replenish" / "web" / "templates"
# texts handed to _() from Python (errors, states) rather than written in a template
FROM_CODE = {"Too many tries. Wait {minutes} min and try again.", "Wrong email or password.",
             "waiting for you", "arriving",
             *(s.value for s in MessageStatus), *(s.value for s in StopStatus),
             *(s.value for s in TankShape)}


def page_texts():
    found = set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        found |= {m.replace('\\"', '"') for m in re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', text)}
    return found


@pytest.mark.parametrize("locale", ["zh-TW", "zh-CN"])
def test_each_catalog_translates_every_text_and_nothing_else(locale):
    catalog = {}
    for path in [*CATALOG_DIR.glob(f"{locale}.json"), *CATALOG_DIR.glob(f"{locale}.*.json")]:
        catalog |= json.loads(path.read_text(encoding="utf-8"))
    needed = page_texts() | FROM_CODE
    assert sorted(needed - set(catalog)) == []
    assert sorted(set(catalog) - needed) == []
    for source, target in catalog.items():  # the same {fields} on both sides
        assert set(re.findall(r"{\w+}", source)) == set(re.findall(r"{\w+}", target)), source


def test_a_text_without_a_translation_shows_in_english():
    assert translate("zh-TW", "Today") == "今天"
    assert translate("en", "Today") == "Today"
    filled = translate("zh-TW", "No texts with {name} yet.", name="王太太")
    assert filled == "還沒有與王太太的簡訊。"
    assert translate("xx", "Bring") == "Bring"
