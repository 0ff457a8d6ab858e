"""Two real `replenish run` processes on one database: one runs the jobs, the other
waits, and takes over within the lease when the first dies."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session

from replenish.db.models import SchedulerLease

REPLENISH = str(Path(sys.executable).parent / "replenish")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(url, tmp_path, name):
    env = {**os.environ, "REPLENISH_DATABASE_URL": url, "REPLENISH_JOBS__LEASE_SECONDS": "3",
           "REPLENISH_SETTINGS": str(Path(__file__).parents[2] / "settings.toml")}
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([REPLENISH, "run", "--port", str(free_port())], env=env,
                               stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    process.log = log
    return process


def holder(engine):
    with Session(engine) as session:
        lease = session.get(SchedulerLease, "scheduler")
        return None if lease is None else int(lease.holder.split(":")[1])


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.1)
    return None


def test_the_second_process_takes_over_within_the_lease_when_the_first_dies(
        database, tmp_path):
    init = subprocess.run([REPLENISH, "init"], env={**os.environ, "REPLENISH_DATABASE_URL":
                          database.url}, capture_output=True, text=True, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    first = start(database.url, tmp_path, "first")
    second = None
    try:
        assert wait_for(lambda: holder(database.engine) == first.pid, 30), \
            (tmp_path / "first.log").read_text()
        second = start(database.url, tmp_path, "second")
        assert wait_for(lambda: "waiting: another replenish" in
                        (tmp_path / "second.log").read_text(), 30), \
            (tmp_path / "second.log").read_text()
        assert holder(database.engine) == first.pid

        first.send_signal(signal.SIGKILL)  # no clean stop: the lease just expires
        first.wait()
        killed = time.monotonic()
        took_over = wait_for(lambda: holder(database.engine) == second.pid, 30)
        assert took_over is not None, (tmp_path / "second.log").read_text()
        assert took_over - killed < 3 + 1 + 1  # the lease, a keeper step, some slack

        second.send_signal(signal.SIGINT)  # a clean stop gives the lease back
        assert second.wait(timeout=30) == 0, (tmp_path / "second.log").read_text()
        assert holder(database.engine) is None
        assert "scheduler lease given back" in (tmp_path / "second.log").read_text()
    finally:
        for process in (first, second):
            if process is not None:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                process.log.close()
