"""The jobs in the database: kept across restarts, a missed nightly plan run once."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from jobs import scheduler as wiring
from jobs.scheduler import JOBS, SchedulerService, job_moment, sync_jobs
from replenish.db.models import JobRun, JobStatus
from replenish.settings import JobsSettings
from tests.jobs.conftest import SteppedScheduler

TAIPEI = ZoneInfo("Asia/Taipei")


def local(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI)


def service(database, settings, *, holder="one", **jobs):
    cfg = settings.model_copy(update={
        "database_url": database.url,
        "jobs": JobsSettings.model_validate({**settings.jobs.model_dump(), **jobs})})
    return SchedulerService(cfg, engine=database.engine, timezone="Asia/Taipei",
                            scheduler=SteppedScheduler(), holder=holder)


def logged(database, job):
    with Session(database.engine) as session:
        return session.exec(select(JobRun).where(JobRun.job == job)
                            .order_by(JobRun.id)).all()


def test_every_timed_job_is_stored_with_its_next_run_in_the_shops_zone(database, settings):
    with time_machine.travel(local(24, 10), tick=False):
        one = service(database, settings)
        one.start(keeper_thread=False)
        jobs = {job.id: job.next_run_time for job in one.scheduler.get_jobs()}
        one.shutdown()
    assert set(jobs) == set(JOBS) == {
        "nightly_plan", "build_routes", "courier_morning", "reminders", "followups",
        "dispatch_outbox"}
    assert jobs["nightly_plan"] == local(24, 21)
    assert jobs["reminders"] == local(24, 10, 5)
    assert jobs["followups"] == local(24, 10, 35)


def test_a_restart_keeps_the_schedule_and_runs_a_missed_nightly_plan_once(database, settings):
    with time_machine.travel(local(24, 20), tick=False) as clock:
        one = service(database, settings, outbox_seconds=3600)
        one.start(keeper_thread=False)
        one.shutdown()  # down from 20:00 ...
        clock.move_to(local(25, 0, 30))  # ... until 00:30: 21:00 was missed
        two = service(database, settings, holder="two", outbox_seconds=3600)
        two.start(keeper_thread=False)
        two.scheduler.step()
        two.scheduler.step()  # stepping again runs nothing twice
        nightly = {job.id: job for job in two.scheduler.get_jobs()}["nightly_plan"]
        two.shutdown()
    [run] = logged(database, "nightly_plan")
    assert run.status is JobStatus.OK and run.as_of == local(25, 0, 30)
    assert nightly.next_run_time == local(25, 21)
    assert len(logged(database, "reminders")) == 1  # 00:05 missed, run once too


def test_a_nightly_plan_missed_by_more_than_the_grace_time_waits_for_tonight(
        database, settings):
    with time_machine.travel(local(24, 20), tick=False) as clock:
        one = service(database, settings)
        one.start(keeper_thread=False)
        one.shutdown()
        clock.move_to(local(25, 7))  # ten hours late: more than the 6 h grace
        two = service(database, settings, holder="two")
        two.start(keeper_thread=False)
        two.scheduler.step()
        two.shutdown()
    assert logged(database, "nightly_plan") == []


def test_new_settings_move_a_stored_job_and_unchanged_ones_keep_their_time(
        database, settings):
    with time_machine.travel(local(24, 10), tick=False):
        one = service(database, settings)
        one.start(keeper_thread=False)
        one.shutdown()
        two = service(database, settings, holder="two", nightly_plan_at="22:30")
        two.start(keeper_thread=False)
        jobs = {job.id: job.next_run_time for job in two.scheduler.get_jobs()}
        again = sync_jobs(two.scheduler, two.settings, timezone="Asia/Taipei")
        two.shutdown()
    assert jobs["nightly_plan"] == local(24, 22, 30)
    assert jobs["reminders"] == local(24, 10, 5)
    assert again == []


def test_a_second_scheduler_on_the_same_database_runs_nothing_until_the_first_stops(
        database, settings):
    with time_machine.travel(local(24, 20, 59), tick=False) as clock:
        one = service(database, settings, holder="one")
        one.start(keeper_thread=False)
        two = service(database, settings, holder="two")
        two.start(keeper_thread=False)
        assert (one.active, two.active) == (True, False)
        clock.move_to(local(24, 21))
        two.scheduler.step()  # paused: runs nothing
        assert logged(database, "nightly_plan") == []
        one.scheduler.step()
        assert len(logged(database, "nightly_plan")) == 1
        one.shutdown()  # gives the lease back
        two.keeper.step()
        assert two.active
        two.scheduler.step()  # nothing more is due
        two.shutdown()
    assert [r.holder for r in logged(database, "nightly_plan")] == ["one"]


def test_a_failing_job_is_kept_for_the_owner_and_the_other_jobs_still_run(
        database, settings, monkeypatch):
    def broken(**_):
        raise ConnectionError("database gone for a moment")

    monkeypatch.setitem(JOBS, "reminders", JOBS["reminders"].__class__(
        **{**JOBS["reminders"].__dict__, "function": broken}))
    with time_machine.travel(local(24, 10, 4), tick=False) as clock:
        one = service(database, settings)
        one.start(keeper_thread=False)
        clock.move_to(local(24, 11, 5))
        one.scheduler.step()
        clock.move_to(local(24, 11, 35))
        one.scheduler.step()
        one.shutdown()
    [failed] = logged(database, "reminders")
    assert failed.status is JobStatus.FAILED and "database gone" in failed.error
    assert [r.status for r in logged(database, "followups")] == [JobStatus.OK, JobStatus.OK]


def test_run_now_for_a_day_uses_a_daily_jobs_own_time(settings):
    now = datetime(2026, 11, 24, 3, 17, tzinfo=UTC)  # 11:17 in Taipei
    nightly = job_moment(JOBS["nightly_plan"], settings.jobs, day=local(30, 0).date(),
                         timezone="Asia/Taipei", now=now)
    hourly = job_moment(JOBS["reminders"], settings.jobs, day=local(30, 0).date(),
                        timezone="Asia/Taipei", now=now)
    assert nightly == local(30, 21) and hourly == local(30, 11, 17)
    assert wiring.run_scheduled.__module__ == "jobs.scheduler"  # stored by text reference
    assert timedelta(0) < nightly - hourly
