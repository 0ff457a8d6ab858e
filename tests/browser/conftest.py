"""Browser tests: the real app served by uvicorn on a free port, driven by Playwright
with Debian's Chromium (``/usr/bin/chromium``; ``make test`` installs it when missing).

Screenshots of every page a test visits go to ``test-output/screenshots/<backend>/``
(or ``$REPLENISH_TEST_OUTPUT/screenshots``), to be looked at by a person.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

CHROMIUM = os.environ.get("REPLENISH_TEST_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("REPLENISH_TEST_OUTPUT", "test-output"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app under uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def shots(backend, request):
    """``shots(page, "name")`` saves a full-page screenshot, numbered in visit order."""
    folder = OUTPUT / "screenshots" / backend.name / request.node.name.split("[")[0]
    folder.mkdir(parents=True, exist_ok=True)
    count = [0]

    def shot(page, name: str) -> Path:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
