"""Days away told at the door, placed on the latest free days before the visit."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replenish.core.away import told_away

LAST = date(2027, 3, 1)  # the last delivery
VISIT = date(2027, 3, 21)  # 19 days between them


def test_days_away_go_on_the_days_just_before_the_visit():
    assert told_away(6, since=LAST, visit=VISIT) == [(date(2027, 3, 15), date(2027, 3, 20))]


def test_no_days_away_holds_nothing():
    assert told_away(0, since=LAST, visit=VISIT) == []


def test_days_the_shop_already_held_count_toward_the_answer():
    trip = (date(2027, 3, 5), date(2027, 3, 8))  # told ahead: 4 days
    assert told_away(4, since=LAST, visit=VISIT, held=[trip]) == []
    assert told_away(6, since=LAST, visit=VISIT, held=[trip]) == [
        (date(2027, 3, 19), date(2027, 3, 20))]


def test_new_days_skip_a_hold_in_the_way():
    late = (date(2027, 3, 18), date(2027, 3, 19))
    assert told_away(5, since=LAST, visit=VISIT, held=[late]) == [
        (date(2027, 3, 16), date(2027, 3, 17)), (date(2027, 3, 20), date(2027, 3, 20))]


def test_more_days_than_since_the_last_delivery_is_refused_with_the_most_allowed():
    with pytest.raises(ValueError, match=r"days away: 20 is more than the 19 days .* at most 19"):
        told_away(20, since=LAST, visit=VISIT)
    with pytest.raises(ValueError, match="days away must be a whole number"):
        told_away(-1, since=LAST, visit=VISIT)


@given(days=st.integers(0, 19), start=st.integers(1, 19), length=st.integers(0, 6))
def test_the_held_and_new_days_together_are_the_days_told(days, start, length):
    hold = (date(2027, 3, start), date(2027, 3, min(start + length, 25)))
    ranges = told_away(days, since=LAST, visit=VISIT, held=[hold])
    new = {date(2027, 3, d) for d in range(2, 21)
           if any(a <= date(2027, 3, d) <= b for a, b in ranges)}
    held = {date(2027, 3, d) for d in range(2, 21) if hold[0] <= date(2027, 3, d) <= hold[1]}
    assert not new & held
    assert len(new) == max(days - len(held), 0)
    assert all(LAST < a <= b < VISIT for a, b in ranges)
