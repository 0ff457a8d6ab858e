"""Replies per second through ``POST /twilio/sms``, and their latency (p50/p99).

    .venv/bin/python bench/webhook_latency.py --rate 200 --seconds 10

The web app runs under uvicorn in a child process on 127.0.0.1 (SQLite file database,
console transport, a made-up Twilio auth token so that signatures are checked).
Customers each have a tank and an open proposal. The client posts signed, form-encoded
texts the way Twilio does (a mix of "1", "好", "還有一半", "later", "這是什麼?" and
retried MessageSids) on a fixed schedule of ``rate`` a second from a pool of threads,
and measures each answer's latency. Bounded: rate × (warmup + seconds) requests,
loopback only.

The first ``--warmup`` second of requests (the same mix) is not counted: it pays for what a
process does once (compiling statements, loading phone metadata, opening connections).
While it measures, the client's own garbage collector is off (its pauses of 50-150 ms
stopped the client's threads mid-request and were counted as the server's latency).

Besides the latencies it prints the web server's CPU time per request (its user + system
time over the run, the worker's applying included: less noisy than latencies on a shared
machine) and, once the server has stopped, what the database holds: every distinct
MessageSid stored once (``stored``), none left unapplied (``unapplied``), and one answer
per applied reply at most (``replies``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from replenish.core.conversation import ProposalState  # noqa: E402
from replenish.core.types import DeliveryMode, ReadingSource, TankShape  # noqa: E402
from replenish.db import make_engine, upgrade_database  # noqa: E402
from replenish.db.models import (  # noqa: E402
    CustomerCreate,
    HouseholdChangeCreate,
    InboundMessage,
    OutboundMessage,
    Proposal,
    ShopCreate,
    TankCreate,
)
from replenish.db.queries import (  # noqa: E402
    add_tank,
    create_customer,
    create_shop,
    get_product,
    record_household_change,
)
from replenish.db.queries.records import add_reading  # noqa: E402
from replenish.settings import load_settings  # noqa: E402

TOKEN = "bench-auth-token"
SID = "AC" + "0" * 32
SHOP_NUMBER = "+886223456789"
TEXTS = ["1", "好", "還有一半", "later", "這是什麼?", "yes 15kg", "3"]

SERVER = """
import sys
sys.path.insert(0, {root!r})
import uvicorn
from replenish.settings import load_settings
from replenish.web.app import create_app
uvicorn.run(create_app(load_settings()), host="127.0.0.1", port={port}, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str, customers: int) -> list[str]:
    upgrade_database(url)
    settings = load_settings()
    engine = make_engine(url)
    phones = []
    now = datetime.now(UTC)
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        rice = get_product(session=session, shop_id=shop.id, key="rice")
        for i in range(customers):
            c = create_customer(session=session, shop=shop, customer_in=CustomerCreate(
                name=f"客戶{i}", phone=f"+8869{10000000 + i}"))
            record_household_change(session=session, customer=c, change_in=HouseholdChangeCreate(
                effective_date=date(2026, 1, 1), adults=2, children=1))
            tank = add_tank(session=session, customer=c, tank_in=TankCreate(
                product_id=rice.id, shape=TankShape.CYLINDER, diameter_cm=40, height_cm=60))
            add_reading(session=session, tank=tank, product=rice, at=now - timedelta(days=1),
                        source=ReadingSource.COURIER, level=12.0, settings=settings)
            session.add(Proposal(shop_id=shop.id, customer_id=c.id, tank_id=tank.id,
                                 product_id=rice.id, mode=DeliveryMode.CONFIRM,
                                 state=ProposalState.PROPOSED,
                                 drop_on=now.date() + timedelta(days=2), quantity=20,
                                 cycle_key=f"bench:{i}", prompted_at=now))
            phones.append(c.phone)
        session.commit()
    engine.dispose()
    return phones


def cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time so far (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, *, quiet: float = 0.3, limit: float = 30.0) -> float | None:
    """Wait until the server stops using CPU (its worker has applied every text); its
    CPU time then."""
    last, deadline = cpu_seconds(pid), time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now is None or last is None or now - last < 0.02 * quiet:
            return now
        last = now
    return last


def tally(url: str) -> dict[str, int]:
    """What the database holds after the run."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            def count(statement: object) -> int:
                return int(session.exec(statement).one())  # type: ignore[call-overload]

            return {
                "stored": count(select(func.count()).select_from(InboundMessage)),
                "unapplied": count(select(func.count()).select_from(InboundMessage)
                                   .where(col(InboundMessage.processed_at).is_(None))),
                "replies": count(select(func.count()).select_from(OutboundMessage)
                                 .where(col(OutboundMessage.idempotency_key).like("reply:%"))),
            }
    finally:
        engine.dispose()


def load(client: httpx.Client, requests: list[tuple[dict[str, str], str]], *, rate: float,
         threads: int) -> tuple[list[float], dict[int, int], float]:
    """Post ``requests`` on a fixed schedule of ``rate`` a second from ``threads`` threads:
    each answer's latency (sorted), the count of each status, and the wall time taken."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def post(i: int) -> None:
        form, signature = requests[i]
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        elapsed = time.perf_counter() - t0
        with lock:
            latencies.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(len(requests))))
    return sorted(latencies), statuses, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of requests first, at the same rate, not counted")
    parser.add_argument("--database", default=None, help="PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    schema = None
    if args.database:
        schema = f"bench_hooks_{os.getpid()}"
        admin = make_engine(args.database)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        admin.dispose()
        url = f"{args.database}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'hooks.db'}"
    phones = seed(url, args.customers)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REPLENISH_")},
           "REPLENISH_DATABASE_URL": url, "REPLENISH_SMS__TRANSPORT": "console",
           "REPLENISH_SMS__PUBLIC_URL": public, "REPLENISH_SMS__TWILIO__ACCOUNT_SID": SID,
           "REPLENISH_SMS__TWILIO__AUTH_TOKEN": TOKEN,
           "REPLENISH_SMS__TWILIO__FROM_NUMBER": SHOP_NUMBER}
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT), port=port)],
                              env=env, cwd=ROOT)
    try:
        client = httpx.Client(base_url=public, timeout=10.0)
        for _ in range(100):  # wait for the server to listen
            try:
                client.get("/openapi.json")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        validator = RequestValidator(TOKEN)

        def signed(form: dict[str, str]) -> tuple[dict[str, str], str]:
            return form, validator.compute_signature(public + "/twilio/sms", form)

        rnd = random.Random(1)
        total = int(args.rate * args.seconds)
        requests: list[tuple[dict[str, str], str]] = []
        for n in range(total):
            sid = f"SM{n:032x}" if rnd.random() > 0.05 or n == 0 else requests[-1][0]["MessageSid"]
            requests.append(signed({"MessageSid": sid, "AccountSid": SID,
                                    "From": rnd.choice(phones), "To": SHOP_NUMBER,
                                    "Body": rnd.choice(TEXTS), "NumMedia": "0"}))
        warm = random.Random(2)
        warmup = [signed({"MessageSid": f"SW{n:032x}", "AccountSid": SID,
                          "From": warm.choice(phones), "To": SHOP_NUMBER,
                          "Body": warm.choice(TEXTS), "NumMedia": "0"})
                  for n in range(int(args.rate * args.warmup))]
        load(client, warmup, rate=args.rate, threads=args.threads)  # not counted
        settle(server.pid)
        cpu_before = cpu_seconds(server.pid)
        # the client's own garbage collector must not stop its threads mid-request
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            latencies, statuses, wall = load(client, requests, rate=args.rate,
                                             threads=args.threads)
        finally:
            gc.enable()
        cpu_after = settle(server.pid)
        result: dict[str, object] = {
            "requests": total, "target_rate": args.rate, "achieved_rate": round(total / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1), "statuses": statuses,
            "backend": "postgresql" if args.database else "sqlite",
        }
        if cpu_before is not None and cpu_after is not None:
            result["server_cpu_ms_per_request"] = round((cpu_after - cpu_before) / total * 1000, 2)
        server.terminate()  # the app applies what it stored before it stops
        server.wait(timeout=120)
        distinct = len({form["MessageSid"] for form, _ in requests + warmup})
        print(json.dumps(result | {"sids": distinct} | tally(url)))
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=120)
        if schema:
            admin = make_engine(args.database)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


if __name__ == "__main__":
    main()
