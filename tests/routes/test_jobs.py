"""The 17:00 job builds tomorrow's routes; the 07:00 job texts each courier a link."""

from datetime import timedelta

from sqlmodel import Session, select

from jobs.routes import build_routes, courier_morning
from replenish.db.models import MessageKind, OutboundMessage, RoutePlan
from replenish.db.queries.secrets import signing_key
from replenish.web.links import read_link
from tests.routes.town import THURSDAY, WEDNESDAY_17, build_town, fast


def test_the_evening_job_builds_tomorrow_and_the_morning_job_texts_each_courier_once(
        database, settings):
    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        build_town(session, cfg)
        session.commit()

    [built] = build_routes(database_url=database.url, now=WEDNESDAY_17, settings=cfg).values()
    assert (built.day, built.planned, built.unplanned, built.problem) == (THURSDAY, 5, 0, "")

    morning = WEDNESDAY_17 + timedelta(hours=14)  # Thursday 07:00
    [first] = courier_morning(database_url=database.url, now=morning, settings=cfg).values()
    [again] = courier_morning(database_url=database.url, now=morning, settings=cfg).values()
    assert first.links == built.routes >= 1 and again.links == 0
    with Session(database.engine) as session:
        texts = session.exec(select(OutboundMessage).where(
            OutboundMessage.kind == MessageKind.COURIER_LINK)).all()
        assert len(texts) == built.routes
        url = texts[0].body.splitlines()[-1]
        assert session.exec(select(RoutePlan)).one().day == THURSDAY
    assert url.startswith("http://127.0.0.1:8000/courier/")
    key = signing_key(engine=database.engine, settings=cfg)
    link = read_link(url.rsplit("/", 1)[1], key=key, now=morning)
    assert link.expires == morning + timedelta(hours=24)


def test_the_evening_job_says_why_when_the_shop_has_no_location(database, settings):
    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        build_town(session, cfg, located=False)
        session.commit()
    [built] = build_routes(database_url=database.url, now=WEDNESDAY_17, settings=cfg).values()
    assert "the shop's location is not set" in built.problem and built.planned == 0


def test_a_yes_after_the_evening_build_is_routed_before_the_links_go_out(database, settings):
    from replenish.core.types import DropStatus
    from replenish.db.models import Drop, DropCreate, RouteStop, Tank
    from replenish.db.queries import record_drop

    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        build_town(session, cfg)
        session.commit()
    build_routes(database_url=database.url, now=WEDNESDAY_17, settings=cfg)
    with Session(database.engine) as session:  # 19:30: Mrs. Wang's neighbour says YES
        tank = session.exec(select(Tank).order_by(Tank.id)).first()
        late = record_drop(session=session, tank=tank, drop_in=DropCreate(
            delivered_on=THURSDAY, quantity=5, status=DropStatus.PLANNED))
        session.commit()
        late_id = late.id

    morning = WEDNESDAY_17 + timedelta(hours=14)
    courier_morning(database_url=database.url, now=morning, settings=cfg)

    with Session(database.engine) as session:
        assert session.exec(select(RouteStop).where(RouteStop.drop_id == late_id)).first()
        assert session.get(Drop, late_id).courier_id is not None


def test_two_builds_of_one_day_at_once_take_turns(database, settings):
    import threading

    from jobs.routes import build_day

    cfg = fast(settings).model_copy(update={"database_url": database.url})
    with Session(database.engine) as session:
        shop, _, _ = build_town(session, cfg)
        shop_id = shop.id
        session.commit()
    start, results = threading.Barrier(2), []

    def build():  # the 17:00 job and a double-clicked button
        start.wait()
        try:
            results.append(build_day(database_url=database.url, shop_id=shop_id,
                                     day=THURSDAY, now=WEDNESDAY_17, settings=cfg))
        except Exception as error:  # noqa: BLE001 - the assertion below shows it
            results.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [type(r).__name__ for r in results] == ["BuildResult", "BuildResult"]
    with Session(database.engine) as session:
        assert len(session.exec(select(RoutePlan)).all()) == 1
