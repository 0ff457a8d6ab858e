from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.core.texting import QuietHours, next_send_time, render, segments

TAIPEI = ZoneInfo("Asia/Taipei")


def test_plain_english_travels_as_gsm_with_160_characters_a_segment():
    assert segments("x" * 160).count == 1
    assert segments("x" * 161).count == 2
    assert segments("x" * 161).encoding == "GSM-7"


def test_chinese_travels_as_ucs2_with_70_characters_a_segment():
    assert segments("米" * 70) == segments("米" * 70).__class__("UCS-2", 70, 1)
    assert segments("米" * 71).count == 2
    assert segments("米" * 134).count == 2
    assert segments("米" * 135).count == 3


def test_an_emoji_counts_twice_and_makes_the_message_ucs2():
    s = segments("Thanks 🙏")
    assert s.encoding == "UCS-2" and s.units == 9


def test_a_euro_sign_takes_two_gsm_septets():
    assert segments("€").units == 2


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 24, 23, 0), datetime(2026, 11, 25, 8, 0)),
        (datetime(2026, 11, 24, 7, 30), datetime(2026, 11, 24, 8, 0)),
        (datetime(2026, 11, 24, 9, 0), datetime(2026, 11, 24, 9, 0)),
        (datetime(2026, 11, 24, 21, 0), datetime(2026, 11, 25, 8, 0)),
        (datetime(2026, 11, 24, 20, 59), datetime(2026, 11, 24, 20, 59)),
    ],
)
def test_a_message_due_in_quiet_hours_waits_for_the_morning(local, expected):
    due = local.replace(tzinfo=TAIPEI).astimezone(UTC)
    sent = next_send_time(due, tz=TAIPEI, quiet=QuietHours())
    assert sent.astimezone(TAIPEI).replace(tzinfo=None) == expected


def test_daytime_quiet_hours_work_too():
    quiet = QuietHours(start=time(12, 0), end=time(14, 0))
    due = datetime(2026, 11, 24, 12, 30, tzinfo=TAIPEI)
    assert next_send_time(due, tz=TAIPEI, quiet=quiet) == datetime(2026, 11, 24, 14, 0,
                                                                    tzinfo=TAIPEI)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                    timezones=st.just(UTC)))
def test_nothing_is_ever_sent_in_quiet_hours(due):
    quiet = QuietHours()
    sent = next_send_time(due, tz=TAIPEI, quiet=quiet)
    assert sent >= due
    assert not quiet.contains(sent.astimezone(TAIPEI).time())


def test_a_template_with_a_missing_field_names_it():
    with pytest.raises(ValueError, match="quantity"):
        render("{shop}: {quantity} kg", {"shop": "林記米行"})
    assert render("{shop}: {quantity} kg", {"shop": "林記", "quantity": 10}) == "林記: 10 kg"
