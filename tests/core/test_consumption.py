import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replenish.core.consumption import (
    DropEvent,
    ForecastParams,
    Household,
    HouseholdEvent,
    Prior,
    ReadingEvent,
    effective_days,
    estimate_rate,
    fold,
    observe,
    prior_rate,
    rate_of,
    start_state,
)
from replenish.core.types import MemberKind

RICE = {MemberKind.ADULT: 0.15, MemberKind.CHILD: 0.08, MemberKind.ELDER: 0.12}
CAP = 60.3  # Wang's 40 x 60 cm cylinder of rice, kg
ERR = 0.02 * CAP
T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
PARAMS = ForecastParams()
FAMILY_OF_FIVE = prior_rate(Household(adults=2, children=2, elders=1), RICE)


def deliveries(rates, *, start_level=50.0, drop=40.0, known=True, seed=1, wobble=0.03):
    """A household eating at each of ``rates`` in turn, refilled with ``drop`` each time.

    Returns the events and the time of the last one.
    """
    rnd = random.Random(seed)
    events = [ReadingEvent(T0, start_level, ERR)]
    level, t = start_level, T0
    for rate in rates:
        days = 0.8 * level / rate
        t += timedelta(days=days)
        level -= rate * days * (1 + rnd.gauss(0, wobble))
        before = round(level, 1) if known else None
        events.append(DropEvent(t, drop, level_before=before, level_after=None, error=ERR))
        level += drop
    return events, t


def learned(events, now, prior=FAMILY_OF_FIVE, holds=(), params=PARAMS):
    return estimate_rate(prior, events, capacity=CAP, now=now, params=params, holds=holds)


def test_a_family_of_five_starts_from_the_per_person_priors():
    assert FAMILY_OF_FIVE.mean == pytest.approx(2 * 0.15 + 2 * 0.08 + 0.12)
    assert FAMILY_OF_FIVE.sd == pytest.approx(0.35 * FAMILY_OF_FIVE.mean)


def test_eating_out_half_the_time_halves_the_prior():
    half = prior_rate(Household(adults=2, eats_at_home=0.5), RICE)
    assert half.mean == pytest.approx(0.15)


def test_a_household_of_nobody_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        Household()


def test_a_steady_household_is_recovered_within_five_percent_after_four_drops():
    events, t = deliveries([0.75] * 4)
    rate = learned(events, t)
    assert rate.mean == pytest.approx(0.75, rel=0.05)
    assert rate.sd < FAMILY_OF_FIVE.sd / 3


def test_with_learning_off_the_rate_stays_the_household_prior_while_levels_are_tracked():
    events, t = deliveries([0.75] * 4)
    off = ForecastParams(learn=False)
    rate = estimate_rate(FAMILY_OF_FIVE, events, capacity=CAP, now=t, params=off)
    assert rate.mean == pytest.approx(FAMILY_OF_FIVE.mean) and rate.intervals == 0
    state = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=off)
    assert state.level is not None and state.level_at == t


def test_a_pending_slow_interval_does_not_slow_the_forecast_but_a_fast_one_speeds_it_up():
    steady, _ = deliveries([0.75] * 5)
    slow, t_slow = deliveries([0.75] * 5 + [0.25])  # away half the time, nobody told us
    fast, t_fast = deliveries([0.75] * 5 + [2.0])  # guests for a month
    after_slow, after_fast = learned(slow, t_slow), learned(fast, t_fast)
    assert after_slow.pending and after_fast.pending  # both wait for the next interval
    assert after_slow.mean == pytest.approx(learned(steady, t_slow).mean, rel=1e-9)
    assert after_fast.mean > learned(steady, t_fast).mean * 1.04  # damped, but counted


def test_a_tank_found_empty_sooner_than_believed_possible_resets_what_was_learned():
    events, t = deliveries([0.5] * 6)  # a confident 0.5 kg a day
    level = 40.0 + events[-1].level_before  # after the last drop
    t_empty = t + timedelta(days=level / 1.2 + 3)  # they now eat 1.2: empty 3 days ago
    empty = DropEvent(t_empty, 40.0, level_before=0.0, level_after=None, error=ERR)
    before = learned(events, t)
    after = learned([*events, empty], t_empty)
    assert before.mean == pytest.approx(0.5, rel=0.05)
    assert after.mean >= 1.0 and after.changes  # the bound, level / days, is about 1.1


def test_a_tank_found_within_the_tapes_error_of_empty_counts_as_maybe_empty_for_days():
    events, t = deliveries([0.5] * 6)
    level = 40.0 + events[-1].level_before
    t_found = t + timedelta(days=level / 1.2 + 3)  # they now eat 1.2: empty 3 days ago
    at = {found: learned([*events, DropEvent(t_found, 40.0, level_before=found,
                                             level_after=None, error=ERR)], t_found)
          for found in (0.0, 0.5 * ERR, 3 * ERR)}
    # half an error above empty (one step of the tape) reads like empty: the bound moves it
    assert at[0.5 * ERR].mean >= 1.0 and at[0.5 * ERR].changes
    assert at[0.5 * ERR].mean == pytest.approx(at[0.0].mean, rel=0.03)
    # three errors above empty is a level, taken at its word: a pending fast interval
    assert at[3 * ERR].pending is not None and not at[3 * ERR].changes


def test_a_slow_interval_with_a_visit_that_found_nobody_home_is_not_learned_as_slow_eating():
    from replenish.core.consumption import NotHomeEvent

    events, t = deliveries([0.75] * 5)
    level = min(40.0 + events[-1].level_before, CAP)
    back = t + timedelta(days=30)  # a week of it away: 23 days' rice gone in 30
    drop = DropEvent(back, 40.0, level_before=round(level - 0.75 * 23, 1), level_after=None,
                     error=ERR)
    knocked = NotHomeEvent(t + timedelta(days=10))
    trusting = replace(PARAMS, slow_outlier_z=10.0)  # no slow interval held back (below)
    plain = learned([*events, drop], back, params=trusting)
    marked = learned([*events, knocked, drop], back, params=trusting)
    assert plain.mean < 0.72  # taken as slow eating
    assert marked.mean == pytest.approx(learned(events, t).mean, rel=0.02)
    # faster than believed is learned all the same: nobody home does not hide eating more
    fast = DropEvent(back, 40.0, level_before=round(level - 0.9 * 30, 1), level_after=None,
                     error=ERR)
    assert learned([*events, knocked, fast], back).mean == pytest.approx(
        learned([*events, fast], back).mean, rel=1e-9)


def test_a_first_interval_with_a_visit_that_found_nobody_home_says_only_at_least():
    """A family eating twice its head count, away a week nobody told of: its first
    interval looks only a little fast, and must not be averaged with the guess."""
    from replenish.core.consumption import NotHomeEvent

    family = FAMILY_OF_FIVE
    t = T0
    sign_up = ReadingEvent(t, 50.0, ERR)
    back = t + timedelta(days=25)  # 18 days of eating at twice the guess
    used = 2 * family.mean * 18
    drop = DropEvent(back, 30.0, level_before=round(50.0 - used, 1), level_after=None,
                     error=ERR)
    knocked = NotHomeEvent(t + timedelta(days=12))
    plain = learned([sign_up, drop], back)
    marked = learned([sign_up, knocked, drop], back)
    seen = used / 25
    assert plain.mean < seen  # pulled back toward the guess
    assert marked.mean >= seen  # at least what was seen
    assert marked.intervals == 0  # still unmeasured: the next drop is planned with care


def test_a_much_slower_interval_is_held_back_and_a_one_off_says_only_at_least():
    events, t = deliveries([0.75] * 5)
    usual = learned(events, t).mean
    away, _ = deliveries([0.75] * 5 + [0.6], seed=1)  # days away nobody told of
    assert learned(away, away[-1].at).pending  # held back: the forecast keeps its pace
    assert learned(away, away[-1].at).mean == pytest.approx(usual, rel=0.02)
    back, end = deliveries([0.75] * 5 + [0.6, 0.75], seed=1)  # then as before
    assert learned(back, end).mean == pytest.approx(usual, rel=0.02)
    assert not learned(back, end).pending and len(learned(back, end).outliers) == 1
    slower, end = deliveries([0.75] * 5 + [0.6, 0.6], seed=1)  # then slow again: habits
    assert learned(slower, end).mean < 0.65


def test_a_household_that_doubles_is_caught_within_three_drops():
    events, t = deliveries([0.75] * 6 + [1.5] * 3)
    rate = learned(events, t)
    assert rate.mean == pytest.approx(1.5, rel=0.10)
    assert len(rate.changes) == 1


def test_a_party_is_damped_and_flagged_not_swallowed():
    steady, _ = deliveries([0.75] * 7)
    party, t = deliveries([0.75] * 5 + [2.0] + [0.75])
    with_party = learned(party, t)
    assert with_party.outliers, "the party interval is flagged"
    assert not with_party.changes
    assert with_party.mean == pytest.approx(learned(steady, t).mean, rel=0.06)


def test_a_top_up_from_another_shop_is_flagged():
    events, t = deliveries([0.75] * 5)
    # the level rose by 20 kg without a drop of ours, then steady use again
    last = events[-1]
    after = min(last.level_before + last.quantity, CAP)
    events.append(ReadingEvent(last.at + timedelta(days=20), CAP - 1, ERR))
    events.append(ReadingEvent(last.at + timedelta(days=40), CAP - 1 - 15, ERR))
    assert after < CAP - 1
    rate = learned(events, last.at + timedelta(days=40))
    assert rate.outliers
    assert rate.mean == pytest.approx(0.75, rel=0.1)


def test_unknown_levels_before_drops_still_teach_the_rate():
    events, t = deliveries([0.75] * 6, known=False)
    rate = learned(events, t)
    assert abs(rate.mean - 0.75) < abs(FAMILY_OF_FIVE.mean - 0.75) / 2


def test_a_tank_found_empty_pushes_the_rate_up():
    events = [ReadingEvent(T0, 30.0, ERR), ReadingEvent(T0 + timedelta(days=20), 0.0, ERR)]
    rate = learned(events, T0 + timedelta(days=20))
    assert rate.mean >= 30.0 / 20 * 0.9  # ate 30 kg in at most 20 days


def test_hold_days_consume_nothing():
    hold = (T0 + timedelta(days=5), T0 + timedelta(days=19))
    events = [ReadingEvent(T0, 50.0, ERR), ReadingEvent(T0 + timedelta(days=34), 35.0, ERR)]
    assert effective_days(events[0].at, events[1].at, [hold]) == pytest.approx(20)
    rate = learned(events, events[1].at, holds=[hold])
    assert rate.mean > FAMILY_OF_FIVE.mean  # 15 kg in 20 days of eating, not in 34


def test_a_household_change_recentres_the_rate_and_discounts_the_past():
    events, t = deliveries([0.75] * 5)
    bigger = prior_rate(Household(adults=4, children=2, elders=1), RICE)
    before = learned(events, t)
    after = learned([*events, HouseholdEvent(t + timedelta(seconds=1), bigger)], t)
    ratio = bigger.mean / FAMILY_OF_FIVE.mean
    # the old pace, rescaled, still leads; the new household's prior pulls a little
    assert bigger.mean < after.mean < before.mean * ratio
    assert after.mean == pytest.approx(before.mean * ratio, rel=0.05)
    assert after.sd > before.sd * ratio


def test_the_days_before_a_household_change_are_eaten_at_the_old_pace():
    events, t = deliveries([0.75] * 5)
    before = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    smaller = prior_rate(Household(adults=1), RICE)  # four of five leave, ten days on
    after = observe(before, HouseholdEvent(t + timedelta(days=10), smaller), params=PARAMS)
    old = rate_of(before, now=t + timedelta(days=10), params=PARAMS).mean
    assert after.level_at == t + timedelta(days=10)
    assert after.level == pytest.approx(before.level - 10 * old)  # not at the new pace
    assert after.level_var > before.level_var  # ten days of not knowing


def test_after_a_household_change_the_pace_is_only_as_sure_as_the_size_of_the_step():
    events, t = deliveries([0.75] * 5)
    state = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    before = rate_of(state, now=t, params=PARAMS)
    alone = prior_rate(Household(adults=1), RICE)  # four of five leave: a big step
    one_more = prior_rate(Household(adults=3, children=2, elders=1), RICE)  # a small one

    big = rate_of(observe(state, HouseholdEvent(t, alone), params=PARAMS), now=t,
                  params=PARAMS)
    small = rate_of(observe(state, HouseholdEvent(t, one_more), params=PARAMS), now=t,
                    params=PARAMS)

    # four of five leave: the real step is rarely the head count's, so the new pace is
    # wider than the one person's own first guess, as wide as half the new pace (wider,
    # the slow tail would have no p90 run-out)
    assert big.sd == pytest.approx(big.mean / 2, rel=1e-6)
    assert big.sd > alone.sd
    # a couple told one of them left: as unsure as half the step, not pinned to half
    couple = prior_rate(Household(adults=2), RICE)
    events2, t2 = deliveries([0.39] * 5)
    state2 = fold(start_state(couple, capacity=CAP), events2, params=PARAMS)
    was = rate_of(state2, now=t2, params=PARAMS)
    single = rate_of(observe(state2, HouseholdEvent(t2, alone), params=PARAMS), now=t2,
                     params=PARAMS)
    assert single.sd == pytest.approx(was.mean / 4, rel=0.05)  # half of the halving
    assert single.mean + 2.58 * single.sd > 0.75 * was.mean  # a quarter less is covered
    step = (one_more.mean / FAMILY_OF_FIVE.mean - 1) * before.mean
    assert step / 2 <= small.sd < one_more.sd
    assert small.mean == pytest.approx(before.mean * one_more.mean / FAMILY_OF_FIVE.mean,
                                       rel=0.05)


def test_folding_event_by_event_equals_the_whole_history():
    events, t = deliveries([0.75] * 3 + [1.4] * 3, known=False)
    state = start_state(FAMILY_OF_FIVE, capacity=CAP)
    for e in events:
        state = observe(state, e, params=PARAMS)
    whole = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    assert rate_of(state, now=t, params=PARAMS) == rate_of(whole, now=t, params=PARAMS)


def test_impossible_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="half_life_days"):
        ForecastParams(half_life_days=0)
    with pytest.raises(ValueError, match="risk"):
        ForecastParams(risk=0.9)


@st.composite
def histories(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    events, t, level = [], T0, draw(st.floats(min_value=0, max_value=CAP))
    events.append(ReadingEvent(t, level, ERR))
    for _ in range(n):
        t += timedelta(days=draw(st.floats(min_value=0, max_value=90)))
        kind = draw(st.sampled_from(["reading", "drop", "unknown-drop", "household"]))
        if kind == "reading":
            events.append(ReadingEvent(t, draw(st.floats(min_value=-5, max_value=CAP + 5)), ERR))
        elif kind == "household":
            mean = draw(st.floats(min_value=0.05, max_value=3))
            events.append(HouseholdEvent(t, Prior(mean, 0.35 * mean)))
        else:
            q = draw(st.floats(min_value=1, max_value=CAP))
            before = draw(st.floats(min_value=0, max_value=CAP)) if kind == "drop" else None
            events.append(DropEvent(t, q, before, None, ERR))
    return events, t


@settings(max_examples=200, deadline=None)
@given(histories())
def test_levels_stay_between_empty_and_full_and_rates_stay_positive(history):
    events, t = history
    state = start_state(FAMILY_OF_FIVE, capacity=CAP)
    for e in events:
        state = observe(state, e, params=PARAMS)
        assert state.level is not None and 0 <= state.level <= CAP
        assert state.level_var >= 0
    rate = rate_of(state, now=t + timedelta(days=1), params=PARAMS)
    assert rate.mean > 0 and rate.sd > 0


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.floats(min_value=0.2, max_value=2.0))
def test_more_readings_narrow_the_rate(n, true_rate):
    fewer, t1 = deliveries([true_rate] * n, wobble=0)
    more, t2 = deliveries([true_rate] * (n + 1), wobble=0)
    assert learned(more, t2).sd <= learned(fewer, t1).sd + 1e-12


def test_a_state_survives_the_trip_through_flat_fields():
    from replenish.core.codec import state_from_fields, state_to_fields

    events, t = deliveries([0.75] * 5 + [2.0])
    state = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    assert state.pending is not None
    assert state_from_fields(state_to_fields(state)) == state


def test_overlapping_holds_are_not_counted_twice():
    hold = (T0 + timedelta(days=2), T0 + timedelta(days=5))
    wider = (T0 + timedelta(days=4), T0 + timedelta(days=6))
    assert effective_days(T0, T0 + timedelta(days=10), [hold, hold, wider]) == pytest.approx(6)


def test_an_event_older_than_the_state_asks_for_a_refold():
    from replenish.core.consumption import OutOfOrderError

    events, t = deliveries([0.75] * 3)
    state = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    with pytest.raises(OutOfOrderError):
        observe(state, ReadingEvent(t - timedelta(days=3), 20.0, ERR), params=PARAMS)


def test_fold_puts_events_in_time_order():
    events, t = deliveries([0.75] * 4)
    shuffled = list(reversed(events))
    state = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), shuffled, params=PARAMS)
    ordered = fold(start_state(FAMILY_OF_FIVE, capacity=CAP), events, params=PARAMS)
    assert state == ordered
