"""The simulated households: hidden true use, trips, holidays, and answers."""

from datetime import date, timedelta
from statistics import mean

from replenish.core.replies import parse_reply
from replenish.sim.people import (
    AnswerKind,
    Household,
    answer_prompt,
    daily_use,
    holiday_lift,
    make_households,
)

START = date(2027, 1, 1)


def test_the_same_seed_makes_the_same_town_and_another_seed_another():
    one = make_households(50, seed=1, start=START, days=365)
    again = make_households(50, seed=1, start=START, days=365)
    other = make_households(50, seed=2, start=START, days=365)
    assert one == again and one != other
    assert [daily_use(h, START) for h in one] == [daily_use(h, START) for h in again]


def test_over_a_quarter_a_household_uses_about_its_base_rate():
    home = Household(1, adults=2, children=1, elders=0, personal=1.0, seed=42)
    days = [date(2027, 5, 1) + timedelta(days=i) for i in range(90)]  # no long holidays
    used = [daily_use(home, d) for d in days]
    assert abs(mean(used) - home.base_rate) < 0.06 * home.base_rate
    assert min(used) < home.base_rate < max(used)  # it varies from day to day


def test_nothing_is_used_while_away_and_more_at_lunar_new_year():
    trip = (date(2027, 3, 1), date(2027, 3, 7))
    home = Household(1, adults=2, children=0, elders=0, personal=1.0, away=(trip,), seed=7)
    assert daily_use(home, date(2027, 3, 3)) == 0.0
    assert holiday_lift(date(2027, 2, 6)) == 1.6  # Chinese New Year, Taiwan's calendar
    assert holiday_lift(date(2027, 4, 5)) == 1.2  # Tomb-Sweeping Day
    assert holiday_lift(date(2027, 3, 10)) == 1.0


def test_a_change_for_good_applies_from_its_day_on():
    baby = Household(1, 2, 0, 0, 1.0, changes=((date(2027, 6, 1), 1.15),), seed=3)
    assert baby.factor_on(date(2027, 5, 31)) == 1.0
    assert baby.factor_on(date(2027, 6, 1)) == 1.15


def test_answers_come_at_once_later_or_never_and_read_as_what_they_mean():
    town = make_households(400, seed=5, start=START, days=365)
    answers = [answer_prompt(h, prompt_id=1, quantity=20) for h in town]
    silent = sum(a is None for a in answers) / len(answers)
    assert 0.05 < silent < 0.16
    said = [a for a in answers if a is not None]
    assert {a.kind for a in said} == set(AnswerKind)
    assert any(a.after_hours < 0.5 for a in said) and any(a.after_hours > 1 for a in said)
    for a in said:  # the parser understands what the people mean (or knows it does not)
        intent = parse_reply(a.text).intent.value
        expected = {"yes": "confirm", "later": "snooze", "amount": "quantity",
                    "unknown": "unknown"}[a.kind.value]
        assert intent == expected, (a.text, intent)
    assert answer_prompt(town[0], 1, quantity=20) == answers[0]  # the same every time
