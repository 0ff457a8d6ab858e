"""The nightly forecast for N synthetic customers, each with a year of drops and readings.

    .venv/bin/python bench/forecast_throughput.py --customers 10000
    .venv/bin/python bench/forecast_throughput.py --customers 100000 \\
        --database postgresql://postgres@127.0.0.1:5432/test

What it does, in order (only step 4 is "the nightly run"):

1. a fresh database (a temp SQLite file, or a fresh schema in the PostgreSQL database);
2. N customers, each with a household, one rice tank, a year of monthly drops (the level
   before measured 85% of the time) and a customer reading every other month;
3. last night's state: every tank's history folded (the full recompute, in memory, on
   all cores) and saved, as the write path keeps it;
4. the nightly refresh in a child process: ``refresh_forecasts`` reads every tank's
   state, forecasts in arrays, writes every answer back. Wall time and the child's
   peak memory (VmHWM) are reported;
5. a check: for a sample of tanks, a full recompute from the database history
   (``forecast_as_of``) must give the same dates and sizes as the nightly answer;
   with ``--stale``, one more nightly run with every tank marked stale (as after a
   product edit): the bulk refold from the whole history;
6. the naive way for comparison: a per-customer ORM loop (load the history with the ORM,
   fold, forecast, save the row) on a sample, as customers per second.

Numbers go to BENCHMARKS.md; this is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from replenish.core.codec import state_to_fields
from replenish.core.consumption import (
    DropEvent,
    ForecastParams,
    Prior,
    ReadingEvent,
    fold,
    start_state,
)
from replenish.db import make_engine, upgrade_database
from replenish.db.history import core_params
from replenish.db.models import (
    Customer,
    Drop,
    HouseholdChange,
    Product,
    Reading,
    Shop,
    ShopCreate,
    Tank,
    TankForecast,
)
from replenish.db.queries import create_shop
from replenish.settings import load_settings

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 21:00 in Tainan: the nightly plan
START = NOW - timedelta(days=365)
PRIORS = (0.15, 0.08, 0.12)  # rice per adult, child, elder (settings.toml defaults)
UNITS_PER_LITRE = 0.8
CHUNK = 20_000


# --- synthetic customers ---------------------------------------------------------------


def synth(i: int) -> dict:
    """Customer ``i``: household, tank, true daily use, and a year of events."""
    rnd = random.Random(i)
    adults, children, elders = rnd.randint(1, 4), rnd.choice((0, 0, 1, 2, 3)), rnd.choice(
        (0, 0, 1, 2))
    diameter, height = rnd.choice((35, 40, 45, 50)), rnd.choice((40, 50, 60, 70))
    cap = math.pi * (diameter / 2) ** 2 * height / 1000 * UNITS_PER_LITRE
    prior = adults * PRIORS[0] + children * PRIORS[1] + elders * PRIORS[2]
    rate = prior * rnd.lognormvariate(0, 0.25)
    level, t = cap * rnd.uniform(0.4, 0.9), START + timedelta(hours=rnd.randint(0, 72))
    readings = [(t, round(level, 2), "courier")]
    drops = []
    step = 0
    while True:
        days = max(min((level - 0.15 * cap) / rate, 60.0), 3.0) * rnd.uniform(0.85, 1.0)
        t_next = t + timedelta(days=days)
        if t_next >= NOW - timedelta(hours=1):
            break
        level = max(level - rate * days * rnd.uniform(0.92, 1.08), 0.0)
        t = t_next
        step += 1
        if step % 2 == 0:  # a customer reply mid-way ("half left")
            readings.append((t, round(level, 2), "customer"))
            continue
        quantity = max(5.0, math.floor((cap - level) / 5) * 5)
        before = round(level, 2) if rnd.random() < 0.85 else None
        drops.append((t, quantity, before))
        level = min(level + quantity, cap)
    return {"adults": adults, "children": children, "elders": elders, "diameter": diameter,
            "height": height, "cap": cap, "prior": prior, "readings": readings, "drops": drops}


def fold_one(i: int, params: ForecastParams, errors: dict[str, float]) -> tuple[dict, dict]:
    c = synth(i)
    cap = c["cap"]
    prior = Prior(c["prior"], params.prior_cv * c["prior"])
    events = [ReadingEvent(t, lvl, errors[src] * cap) for t, lvl, src in c["readings"]]
    events += [DropEvent(t, q, b, None, errors["courier"] * cap) for t, q, b in c["drops"]]
    state = fold(start_state(prior, capacity=cap), events, params=params)
    return c, state_to_fields(state)


def _fold_range(args: tuple[int, int, ForecastParams, dict[str, float]]
                ) -> tuple[list[tuple[dict, dict]], float]:
    lo, hi, params, errors = args
    t0 = time.process_time()
    folded = [fold_one(i, params, errors) for i in range(lo, hi)]
    return folded, time.process_time() - t0


# --- database set-up ---------------------------------------------------------------------


def fresh_database(url: str | None) -> tuple[str, dict]:
    """A URL for an empty database (and what to clean up afterwards)."""
    if url is None or url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.db"
        return f"sqlite:///{path}", {"path": path}
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", {"schema": schema, "admin": url}


def cleanup(info: dict) -> None:
    if "path" in info:
        for suffix in ("", "-wal", "-shm"):
            Path(str(info["path"]) + suffix).unlink(missing_ok=True)
    else:
        admin = make_engine(info["admin"])
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {info['schema']} CASCADE")
        admin.dispose()


def populate(url: str, n: int, workers: int) -> dict[str, float]:
    settings = load_settings()
    params = core_params(settings)
    err = settings.forecast.measurement_error
    errors = {"courier": err.courier, "customer": err.customer, "owner": err.owner}
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        shop = create_shop(session=session, shop_in=ShopCreate.from_params(settings.shop),
                           products=settings.products)
        rice = session.exec(sa.select(Product).where(Product.shop_id == shop.id,
                                                     Product.key == "rice")).scalar_one()
        shop_id, rice_id = shop.id, rice.id
        session.commit()
    timings = {"fold_s": 0.0, "insert_s": 0.0, "events": 0}
    ranges = [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
    created = NOW
    with mp.get_context("fork").Pool(workers) as pool:
        for (lo, _hi), (folded, cpu_s) in zip(ranges, pool.imap(
                _fold_range, [(lo, hi, params, errors) for lo, hi in ranges]), strict=True):
            t1 = time.perf_counter()
            timings["fold_s"] += cpu_s  # CPU seconds spent generating and folding
            customers, households, tanks, readings, drops, forecasts = [], [], [], [], [], []
            for k, (c, fields) in enumerate(folded):
                cid = lo + k + 1
                customers.append({"id": cid, "shop_id": shop_id, "name": f"Customer {cid}",
                                  "phone": f"+8869{cid:08d}", "address": "", "notes": "",
                                  "habits": "", "delivery_mode": "confirm",
                                  "time_windows": [], "language": "zh-TW", "opted_out": False,
                                  "created_at": created})
                households.append({"shop_id": shop_id, "customer_id": cid,
                                   "effective_date": START.date() - timedelta(days=1),
                                   "adults": c["adults"], "children": c["children"],
                                   "elders": c["elders"], "eats_at_home": 1.0,
                                   "created_at": created})
                tanks.append({"id": cid, "shop_id": shop_id, "customer_id": cid,
                              "product_id": rice_id, "label": "", "shape": "cylinder",
                              "diameter_cm": c["diameter"], "height_cm": c["height"],
                              "created_at": created})
                for t, lvl, src in c["readings"]:
                    readings.append({"shop_id": shop_id, "tank_id": cid, "at": t, "source": src,
                                     "level": lvl, "note": "", "created_at": created})
                for t, q, before in c["drops"]:
                    drops.append({"shop_id": shop_id, "tank_id": cid, "delivered_on": t.date(),
                                  "at": t, "quantity": q, "level_before": before,
                                  "status": "delivered", "note": "", "created_at": created})
                row = {name: (v.timestamp() if isinstance(v, datetime) else v)
                       for name, v in fields.items()}
                forecasts.append({"tank_id": cid, "shop_id": shop_id, "customer_id": cid,
                                  "product_id": rice_id, "stale": False, **row})
            with engine.begin() as conn:
                for model, rows in ((Customer, customers), (HouseholdChange, households),
                                    (Tank, tanks), (Reading, readings), (Drop, drops),
                                    (TankForecast, forecasts)):
                    conn.execute(sa.insert(model.__table__), rows)
            timings["events"] += len(readings) + len(drops)
            timings["insert_s"] += time.perf_counter() - t1
    engine.dispose()
    timings["shop_id"] = shop_id
    return timings


# --- the measured parts --------------------------------------------------------------------


def nightly(url: str, shop_id: int) -> None:
    """Child process: one nightly refresh; prints wall time and peak memory as JSON."""
    from replenish.db.queries.nightly import refresh_forecasts

    settings = load_settings()
    engine = make_engine(url)
    t0 = time.perf_counter()
    with Session(engine) as session:
        shop = session.get(Shop, shop_id)
        result = refresh_forecasts(session=session, shop=shop, now=NOW, settings=settings)
        session.commit()
    wall = time.perf_counter() - t0
    peak_kib = _peak_kib()
    print(json.dumps({"wall_s": wall, "peak_mib": peak_kib / 1024, "forecast": result.forecast,
                      "refolded": result.refolded}))


def _peak_kib() -> int:
    """This process's peak resident memory (VmHWM). ru_maxrss is no good in a child:
    Linux carries the parent's peak across fork and exec into it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def check_sample(url: str, shop_id: int, n: int, sample: int) -> dict[str, int]:
    """Full recompute from the database history for a sample; compare with the nightly."""
    from replenish.db.queries.forecasts import forecast_as_of

    settings = load_settings()
    engine = make_engine(url)
    rnd = random.Random(1)
    ids = sorted(rnd.sample(range(1, n + 1), min(sample, n)))
    mismatches = 0
    with Session(engine) as session:
        shop = session.get(Shop, shop_id)
        for cid in ids:
            (tank_id, full), = forecast_as_of(session=session, shop=shop, now=NOW,
                                              settings=settings, customer_id=cid)
            saved = session.get(TankForecast, tank_id)
            assert full is not None and saved is not None
            same = (saved.order_by == full.order_by
                    and saved.runout_p50 == full.runout.local_date("p50")
                    and saved.drop_size == full.drop_size
                    and math.isclose(saved.rate, full.rate.mean, rel_tol=1e-9))
            mismatches += not same
    engine.dispose()
    return {"checked": len(ids), "mismatches": mismatches}


def naive_loop(url: str, shop_id: int, n: int, sample: int) -> float:
    """Customers per second of the per-customer ORM loop (load, fold, forecast, save)."""
    from zoneinfo import ZoneInfo

    from replenish.core.depletion import forecast as scalar_forecast
    from replenish.db.queries.forecasts import refold_tank, state_of

    settings = load_settings()
    params = core_params(settings)
    engine = make_engine(url)
    rnd = random.Random(2)
    ids = rnd.sample(range(1, n + 1), min(sample, n))
    t0 = time.perf_counter()
    with Session(engine) as session:
        shop = session.get(Shop, shop_id)
        tz = ZoneInfo(shop.timezone)
        for cid in ids:
            tank = session.get(Tank, cid)
            product = session.get(Product, tank.product_id)
            row = refold_tank(session=session, shop=shop, tank=tank, product=product,
                              settings=settings)
            f = scalar_forecast(state_of(row), now=NOW, tz=tz, bag_sizes=product.bag_sizes,
                                min_drop=product.min_drop, params=params)
            row.order_by, row.drop_size, row.rate = f.order_by, f.drop_size, f.rate.mean
            row.runout_p50 = f.runout.local_date("p50")
            session.add(row)
            session.commit()
    engine.dispose()
    return len(ids) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--check", type=int, default=200, help="tanks to recompute and compare")
    parser.add_argument("--naive", type=int, default=1000, help="customers in the naive loop")
    parser.add_argument("--stale", action="store_true",
                        help="also time a nightly run with every tank stale (bulk refold)")
    parser.add_argument("--nightly-child", nargs=2, metavar=("URL", "SHOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.nightly_child:
        nightly(args.nightly_child[0], int(args.nightly_child[1]))
        return
    n = args.customers
    url, info = fresh_database(args.database)
    try:
        t0 = time.perf_counter()
        setup = populate(url, n, args.workers)
        setup_s = time.perf_counter() - t0
        runs = []
        for _ in range(3):
            child = subprocess.run([sys.executable, __file__, "--nightly-child", url,
                                    str(setup["shop_id"])], capture_output=True, text=True,
                                   check=True)
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        walls = sorted(r["wall_s"] for r in runs)
        median = walls[1]
        check = check_sample(url, setup["shop_id"], n, args.check)
        stale = None
        if args.stale:  # every tank stale, as after a product edit: the bulk refold path
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("UPDATE tank_forecasts SET stale = true")
            engine.dispose()
            child = subprocess.run([sys.executable, __file__, "--nightly-child", url,
                                    str(setup["shop_id"])], capture_output=True, text=True,
                                   check=True)
            stale = json.loads(child.stdout.strip().splitlines()[-1])
        naive = naive_loop(url, setup["shop_id"], n, args.naive)
        report = {
            "customers": n,
            "backend": "postgresql" if "postgresql" in url else "sqlite",
            "events": setup["events"],
            "setup_s": round(setup_s, 1),
            # synthesis + full fold of each history, per CPU second (one core)
            "full_recompute_in_memory_per_cpu_s": round(n / setup["fold_s"]),
            "nightly_wall_s": [round(w, 2) for w in walls],
            "nightly_median_s": round(median, 2),
            "nightly_customers_per_s": round(n / median),
            "nightly_peak_mib": round(max(r["peak_mib"] for r in runs)),
            "all_stale_wall_s": stale and round(stale["wall_s"], 2),
            "all_stale_refolded": stale and stale["refolded"],
            "all_stale_peak_mib": stale and round(stale["peak_mib"]),
            "naive_orm_customers_per_s": round(naive, 1),
            "speedup_vs_naive": round(n / median / naive, 1),
            **check,
        }
        print(json.dumps(report))
    finally:
        cleanup(info)


if __name__ == "__main__":
    main()
