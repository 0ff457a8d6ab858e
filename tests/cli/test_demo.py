"""`replenish init --demo` (what `make run` does): a town that looks alive."""

from sqlmodel import Session, select
from typer.testing import CliRunner

from replenish.cli import app
from replenish.db import make_engine
from replenish.db.models import InboundMessage, MessageKind, OutboundMessage, RoutePlan, User

runner = CliRunner()


def test_the_demo_has_conversations_tonights_prompts_a_yes_routes_and_a_login(backend):
    url = backend.new_database()
    env = {"REPLENISH_DATABASE_URL": url, "REPLENISH_ROUTING__TIME_LIMIT_SECONDS": "0.5"}
    made = runner.invoke(app, ["init", "--demo"], env=env)
    assert made.exit_code == 0, made.output
    assert "demo sign-in at http://127.0.0.1:8000/login: owner@demo.replenish" in made.output
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            kinds = {m.kind for m in session.exec(select(OutboundMessage))}
            assert {MessageKind.PROMPT, MessageKind.CONFIRMATION,
                    MessageKind.FOLLOWUP} <= kinds
            assert len(session.exec(select(InboundMessage)).all()) > 10
            assert session.exec(select(RoutePlan)).first().planned >= 1
            assert session.exec(select(User)).one().email == "owner@demo.replenish"
        again = runner.invoke(app, ["init", "--demo"], env=env)  # make run, the next day
        assert again.exit_code == 0 and "nothing added" in again.output
    finally:
        engine.dispose()
