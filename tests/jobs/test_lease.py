"""One scheduler per database: the lease row."""

from datetime import UTC, datetime, timedelta

from jobs.lease import Lease, LeaseKeeper

T0 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def test_the_first_process_takes_the_lease_and_a_second_must_wait(database):
    first = Lease(database.engine, holder="a", seconds=30)
    second = Lease(database.engine, holder="b", seconds=30)

    assert first.hold(T0) is True
    assert second.hold(T0 + timedelta(seconds=1)) is False
    assert first.current().holder == "a"


def test_renewing_keeps_the_lease_past_its_first_expiry(database):
    first = Lease(database.engine, holder="a", seconds=30)
    second = Lease(database.engine, holder="b", seconds=30)
    first.hold(T0)

    assert first.hold(T0 + timedelta(seconds=20)) is True
    assert second.hold(T0 + timedelta(seconds=40)) is False  # renewed until 0:50
    row = first.current()
    assert row.acquired_at == T0 and row.expires_at == T0 + timedelta(seconds=50)


def test_a_lease_not_renewed_in_time_is_taken_over_and_the_old_holder_learns_it(database):
    first = Lease(database.engine, holder="a", seconds=30)
    second = Lease(database.engine, holder="b", seconds=30)
    first.hold(T0)

    assert second.hold(T0 + timedelta(seconds=31)) is True
    assert first.hold(T0 + timedelta(seconds=32)) is False
    row = second.current()
    assert row.holder == "b" and row.acquired_at == T0 + timedelta(seconds=31)


def test_a_clean_stop_gives_the_lease_back_at_once(database):
    first = Lease(database.engine, holder="a", seconds=30)
    second = Lease(database.engine, holder="b", seconds=30)
    first.hold(T0)
    second.release()  # not the holder: changes nothing
    assert second.hold(T0 + timedelta(seconds=1)) is False

    first.release()
    assert second.hold(T0 + timedelta(seconds=2)) is True


def test_the_keeper_says_when_the_lease_is_gained_and_lost(database):
    clock = [T0]
    events = []
    keeper = LeaseKeeper(Lease(database.engine, holder="a", seconds=30),
                         on_gain=lambda: events.append("gain"),
                         on_loss=lambda: events.append("loss"), clock=lambda: clock[0])
    rival = Lease(database.engine, holder="b", seconds=30)

    keeper.step()
    clock[0] = T0 + timedelta(seconds=10)
    keeper.step()  # renewed: no news
    assert events == ["gain"]

    assert rival.hold(T0 + timedelta(seconds=41)) is True  # the keeper hung for 31 s
    clock[0] = T0 + timedelta(seconds=42)
    keeper.step()
    assert events == ["gain", "loss"] and keeper.held is False

    keeper.stop()  # not held: gives nothing back
    assert rival.current().holder == "b"
