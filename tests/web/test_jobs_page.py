"""The jobs page: every timed job, when it runs next, how its last runs ended; run one
now."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jobs.scheduler import JOBS
from replenish.db.models import JobRun, JobStatus, SchedulerLease, ShopCreate
from replenish.db.queries import create_shop
from replenish.web.app import create_app
from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)
from tests.web.conftest import add_user, sign_in

TRACEBACK = ('Traceback (most recent call last):\n  File "jobs/routes.py", line 1\n'
             'RuntimeError: the solver <ran> out of patience')


@pytest.fixture
def signed_in(database, settings):  # noqa: F811
    cfg = settings.model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop = create_shop(session=session, products=cfg.products,
                           shop_in=ShopCreate.from_params(cfg.shop, name="Wang's Rice"))
        session.commit()
        shop_id = shop.id
    user = add_user(database.engine, shop_id)
    app = create_app(cfg, engine=database.engine)
    with TestClient(app) as client:
        yield client, sign_in(client, *user), database


def test_the_page_lists_every_job_with_when_it_runs_and_its_next_run(signed_in, settings):
    client, _, _ = signed_in
    page = client.get("/jobs")
    assert page.status_code == 200
    for name in JOBS:
        assert f'id="job-{name}"' in page.text
        assert f'name="name" value="{name}"' in page.text
    for spec in JOBS.values():
        assert spec.when(settings.jobs) in page.text
    assert page.text.count("next run:") == len(JOBS)
    assert "No scheduler is running" in page.text
    assert page.text.count("Not run yet.") == len(JOBS)


def test_a_failed_run_is_highlighted_with_its_traceback(signed_in):
    client, _, database = signed_in  # noqa: F811
    now = datetime.now(UTC)
    with Session(database.engine) as session:
        session.add(JobRun(job="build_routes", as_of=now, started_at=now - timedelta(hours=2),
                           finished_at=now - timedelta(hours=2), status=JobStatus.OK,
                           summary="shop 1: planned 4"))
        session.add(JobRun(job="build_routes", as_of=now, started_at=now,
                           finished_at=now, status=JobStatus.FAILED,
                           summary="RuntimeError: the solver ran out of patience",
                           error=TRACEBACK))
        session.commit()
    page = client.get("/jobs").text
    section = page.split('id="job-build_routes"')[1].split("</section>")[0]
    assert 'class="job failing"' in page.split('id="job-build_routes"')[0][-40:]
    assert "<details><summary>What went wrong</summary>" in section
    assert "RuntimeError: the solver &lt;ran&gt; out of patience" in section  # escaped
    assert "shop 1: planned 4" in section and section.count("<li") == 2


def test_the_lease_holder_is_shown_while_a_scheduler_runs(signed_in):
    client, _, database = signed_in  # noqa: F811
    now = datetime.now(UTC)
    with Session(database.engine) as session:
        session.add(SchedulerLease(name="scheduler", holder="box:4242:abc", acquired_at=now,
                                   renewed_at=now, expires_at=now + timedelta(minutes=1)))
        session.commit()
    page = client.get("/jobs").text
    assert "The scheduler is running in box:4242:abc" in page


def test_run_now_runs_the_job_and_logs_a_manual_run(signed_in):
    client, csrf, database = signed_in  # noqa: F811
    response = client.post("/jobs/run", data={"csrf": csrf, "name": "dispatch_outbox"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/jobs?ran=dispatch_outbox")
    with Session(database.engine) as session:
        run = session.exec(select(JobRun)).one()
        assert (run.job, run.manual, run.status) == ("dispatch_outbox", True, JobStatus.OK)
        assert run.holder == "web: owner@wangs-rice.tw"
    page = client.get(response.headers["location"]).text
    assert "Ran dispatch_outbox now:" in page and "run by hand" in page


def test_run_now_refuses_an_unknown_job_or_a_missing_token(signed_in):
    client, csrf, database = signed_in  # noqa: F811
    assert client.post("/jobs/run", data={"csrf": csrf, "name": "rm_rf"}).status_code == 400
    assert client.post("/jobs/run", data={"name": "nightly_plan"}).status_code == 403
    with Session(database.engine) as session:
        assert session.exec(select(JobRun)).first() is None


def test_the_page_needs_a_signed_in_user(database, settings):  # noqa: F811
    app = create_app(settings.model_copy(update={"database_url": database.url}),
                     engine=database.engine)
    with TestClient(app) as client:
        response = client.get("/jobs", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login")
