from datetime import date

import pytest
from pydantic import ValidationError

from replenish.core.types import HoldKind
from replenish.db.models import CustomerCreate, HoldCreate, HouseholdChangeCreate
from replenish.db.queries import (
    add_hold,
    create_customer,
    current_household,
    delete_hold,
    household_history,
    list_holds,
    record_household_change,
)


@pytest.fixture
def customer(session, shop):
    return create_customer(
        session=session, shop=shop, customer_in=CustomerCreate(name="Lin", phone="0912 345 678")
    )


def change(session, customer, day, **people):
    return record_household_change(
        session=session,
        customer=customer,
        change_in=HouseholdChangeCreate(effective_date=day, **people),
    )


def test_household_history_keeps_every_change(session, customer):
    change(session, customer, date(2024, 1, 1), adults=2, children=1)
    change(session, customer, date(2024, 6, 1), adults=2, children=1, elders=1)
    change(session, customer, date(2024, 3, 1), adults=2, children=2)  # typed late

    history = household_history(session=session, customer_id=customer.id)

    assert [(h.effective_date, h.adults, h.children, h.elders) for h in history] == [
        (date(2024, 1, 1), 2, 1, 0),
        (date(2024, 3, 1), 2, 2, 0),
        (date(2024, 6, 1), 2, 1, 1),
    ]


def test_the_current_household_is_the_latest_change_on_or_before_the_day(session, customer):
    change(session, customer, date(2024, 1, 1), adults=2)
    change(session, customer, date(2024, 6, 1), adults=3)

    def adults_on(day):
        household = current_household(session=session, customer_id=customer.id, as_of=day)
        return household.adults if household else None

    assert adults_on(date(2023, 12, 31)) is None
    assert adults_on(date(2024, 1, 1)) == 2
    assert adults_on(date(2024, 5, 31)) == 2
    assert adults_on(date(2024, 6, 1)) == 3


def test_a_correction_on_the_same_day_wins_over_the_first_entry(session, customer):
    change(session, customer, date(2024, 1, 1), adults=2)
    change(session, customer, date(2024, 1, 1), adults=4)
    household = current_household(session=session, customer_id=customer.id, as_of=date(2024, 2, 1))
    assert household.adults == 4
    assert len(household_history(session=session, customer_id=customer.id)) == 2


def test_a_household_has_at_least_one_person():
    with pytest.raises(ValidationError, match="at least one person"):
        HouseholdChangeCreate(effective_date=date(2024, 1, 1), adults=0, children=0, elders=0)


def test_eats_at_home_is_a_fraction_and_defaults_to_everything():
    assert HouseholdChangeCreate(effective_date=date(2024, 1, 1), adults=1).eats_at_home == 1.0
    with pytest.raises(ValidationError):
        HouseholdChangeCreate(effective_date=date(2024, 1, 1), adults=1, eats_at_home=1.5)
    with pytest.raises(ValidationError):
        HouseholdChangeCreate(effective_date=date(2024, 1, 1), adults=-1, children=2)


def test_a_hold_ends_on_or_after_it_starts():
    HoldCreate(kind=HoldKind.AWAY, start_date=date(2024, 2, 1), end_date=date(2024, 2, 1))
    with pytest.raises(ValidationError, match="end_date must be on or after start_date"):
        HoldCreate(kind=HoldKind.AWAY, start_date=date(2024, 2, 10), end_date=date(2024, 2, 1))


def test_holds_are_found_by_the_days_they_overlap(session, customer):
    new_year = add_hold(
        session=session,
        customer=customer,
        hold_in=HoldCreate(
            kind=HoldKind.AWAY, start_date=date(2024, 2, 8), end_date=date(2024, 2, 14)
        ),
    )
    add_hold(
        session=session,
        customer=customer,
        hold_in=HoldCreate(
            kind=HoldKind.NO_DELIVERY, start_date=date(2024, 7, 1), end_date=date(2024, 7, 31)
        ),
    )

    def kinds(start, end):
        holds = list_holds(session=session, customer_id=customer.id, start=start, end=end)
        return [h.kind for h in holds]

    assert kinds(date(2024, 2, 14), date(2024, 2, 20)) == [HoldKind.AWAY]  # inclusive end
    assert kinds(date(2024, 3, 1), date(2024, 6, 30)) == []
    assert kinds(None, None) == [HoldKind.AWAY, HoldKind.NO_DELIVERY]

    delete_hold(session=session, hold=new_year)
    assert kinds(None, None) == [HoldKind.NO_DELIVERY]
