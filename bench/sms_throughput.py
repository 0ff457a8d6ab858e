"""How fast the outbox dispatcher sends through the real twilio client to a local server.

    .venv/bin/python bench/sms_throughput.py --messages 2000

A fake Twilio (tests/fakes/twilio_server.py, the Messages API wire format) runs in a
child process on 127.0.0.1, so it does not share this process's interpreter. N texts
are queued in a fresh SQLite file (or a fresh PostgreSQL schema with --database), then
``dispatch_outbox`` sends them all; three runs, median. Each text is claimed, sent and
settled once (the script checks the fake server got exactly N posts). Bounded: N texts,
loopback only, stops by itself. Numbers go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from replenish.db import make_engine, upgrade_database  # noqa: E402
from replenish.db.models import ShopCreate  # noqa: E402
from replenish.db.models.messages import MessageKind  # noqa: E402
from replenish.db.queries import create_shop  # noqa: E402
from replenish.db.queries.messages import queue_message  # noqa: E402
from replenish.settings import load_settings  # noqa: E402

SERVER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes.twilio_server import FakeTwilio
with FakeTwilio() as fake:
    print(fake.base_url, flush=True)
    sys.stdin.readline()          # until the parent closes our stdin
    print(len(fake.posts), flush=True)
"""


def fresh_url(database: str | None) -> tuple[str, str | None]:
    if database is None:
        return f"sqlite:///{Path(tempfile.mkdtemp()) / 'sms.db'}", None
    schema = f"bench_sms_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    admin.dispose()
    return f"{database}?options=-csearch_path%3D{schema}", schema


def one_run(n: int, database: str | None, base_url: str) -> float:
    from replenish.settings import TwilioParams
    from replenish.sms.dispatch import DispatchParams, dispatch_outbox
    from replenish.sms.twilio import TwilioTransport
    from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN

    url, schema = fresh_url(database)
    upgrade_database(url)
    engine = make_engine(url)
    settings = load_settings()
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        for i in range(n):
            queue_message(session=session, shop_id=shop.id, to_phone=f"+8869{i:08d}",
                          body="林記米行:王太太您好,週四送10公斤蓬萊米好嗎?回覆1確認、2改天、3不用。",
                          kind=MessageKind.PROMPT, idempotency_key=f"bench:{i}")
        session.commit()
    params = TwilioParams(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                          from_number="+15005550006", api_base_url=base_url)
    transport = TwilioTransport(params)
    t0 = time.perf_counter()
    result = dispatch_outbox(engine=engine, transport=transport, now=datetime.now(UTC),
                             limit=n, params=DispatchParams(batch_size=n))
    wall = time.perf_counter() - t0
    transport.close()
    engine.dispose()
    if schema:
        admin = make_engine(database)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
    if result.sent != n:
        raise SystemExit(f"sent {result.sent} of {n}: {result.problems[:3]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    base_url = server.stdout.readline().strip()
    walls = [one_run(args.messages, args.database, base_url) for _ in range(args.runs)]
    server.stdin.close()
    posts = int(server.stdout.readline().strip())
    server.wait(timeout=10)
    median = statistics.median(walls)
    print(json.dumps({
        "messages": args.messages, "runs": [round(w, 2) for w in walls],
        "median_s": round(median, 2), "messages_per_s": round(args.messages / median),
        "posts_received": posts, "posts_expected": args.messages * args.runs,
        "backend": "postgresql" if args.database else "sqlite",
    }))


if __name__ == "__main__":
    main()
