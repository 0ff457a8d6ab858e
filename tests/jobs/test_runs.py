"""Running a job and keeping its log."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from jobs.runs import last_runs, run_job, summarize
from replenish.conversation.decisions import Action, Decision, ProposeResult
from replenish.db.models import JobRun, JobStatus
from replenish.sms.outbox import DispatchResult

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def runs(database):
    with Session(database.engine) as session:
        return session.exec(select(JobRun).order_by(JobRun.id)).all()


def test_a_run_is_logged_with_a_readable_summary(database, settings):
    def plan(*, database_url, now, settings):
        assert (database_url, now) == (settings.database_url, NOW)
        return {1: ProposeResult(decisions=(
            Decision(customer_id=1, customer="A", action=Action.PROMPT, reason="due"),
            Decision(customer_id=2, customer="B", action=Action.PROMPT, reason="due"),
            Decision(customer_id=3, customer="C", action=Action.BOOK, reason="auto")),
            not_due=4)}

    cfg = settings.model_copy(update={"database_url": database.url})
    run = run_job("nightly_plan", plan, engine=database.engine, settings=cfg, now=NOW)

    [logged] = runs(database)
    assert logged.id == run.id and logged.status is JobStatus.OK
    assert logged.summary == "shop 1: book 1, prompt 2, not due 4"
    assert logged.as_of == NOW and logged.finished_at >= logged.started_at


def test_a_failing_job_is_logged_with_its_traceback_and_raises_nothing(database, settings):
    def broken(**_):
        raise RuntimeError("the printer is on fire")

    run = run_job("reminders", broken, engine=database.engine, settings=settings, now=NOW)

    [logged] = runs(database)
    assert run.status is logged.status is JobStatus.FAILED
    assert logged.summary == "RuntimeError: the printer is on fire"
    assert "Traceback" in logged.error and "broken" in logged.error


def test_an_outbox_run_that_sent_nothing_leaves_no_log_but_one_that_sent_does(
        database, settings):
    def idle(**_):
        return DispatchResult()

    def busy(**_):
        return DispatchResult(sent=3, retried=1)

    run_job("dispatch_outbox", idle, engine=database.engine, settings=settings, now=NOW)
    assert runs(database) == []
    run_job("dispatch_outbox", busy, engine=database.engine, settings=settings, now=NOW)
    [logged] = runs(database)
    assert logged.summary == "sent 3, retried 1"
    run_job("dispatch_outbox", idle, engine=database.engine, settings=settings, now=NOW,
            manual=True)  # asked for by hand: always logged
    assert [r.summary for r in runs(database)] == ["sent 3, retried 1", "nothing"]


def test_old_runs_are_forgotten_after_the_kept_days(database, settings):
    with Session(database.engine) as session:
        session.add(JobRun(job="reminders", as_of=NOW, status=JobStatus.OK,
                           started_at=datetime.now(UTC) - timedelta(days=31)))
        session.add(JobRun(job="reminders", as_of=NOW, status=JobStatus.OK,
                           started_at=datetime.now(UTC) - timedelta(days=29)))
        session.commit()

    run_job("followups", lambda **_: {}, engine=database.engine, settings=settings, now=NOW)

    with Session(database.engine) as session:
        kept = last_runs(session, limit_per_job=5)
    assert [len(kept["reminders"]), len(kept["followups"])] == [1, 1]
    assert kept["followups"][0].summary == "no shops"


def test_a_summary_says_nothing_when_nothing_happened():
    assert summarize({2: DispatchResult()}) == "shop 2: nothing"
    assert summarize(DispatchResult(stopped="no account")) == "stopped: no account"
