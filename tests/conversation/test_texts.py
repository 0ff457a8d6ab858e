from datetime import date

from replenish.conversation.texts import format_day, message_text
from replenish.core.types import Locale
from replenish.db.models import CustomerCreate
from replenish.db.queries import create_customer, get_product


def test_a_heads_up_names_the_customers_time_window_that_day(session, shop, settings):
    customer = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
        name="Mrs. Rivera", phone="+1 512 555 0134", language=Locale.EN,
        time_windows=[{"days": "mon-fri", "start": "17:00", "end": "21:00"}]))
    water = get_product(session=session, shop_id=shop.id, key="water")
    thursday, saturday = date(2026, 11, 26), date(2026, 11, 28)
    text = message_text("heads_up", settings=settings, shop=shop, customer=customer,
                        product=water, quantity=3, drop_day=thursday)
    assert "Thu 26 Nov between 17:00 and 21:00" in text
    weekend = message_text("heads_up", settings=settings, shop=shop, customer=customer,
                           product=water, quantity=3, drop_day=saturday)
    assert "between" not in weekend


def test_days_are_written_the_way_each_language_writes_them():
    day = date(2026, 11, 27)
    assert [format_day(day, loc) for loc in ("zh-TW", "zh-CN", "en")] == [
        "週五(11/27)", "周五(11/27)", "Fri 27 Nov"]
