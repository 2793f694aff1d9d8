"""Shared fixtures: the real Streamlit server for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Ray reads these once, when it is first imported, by whichever test imports it first: a local Ray then
# listens on 127.0.0.1 only, not on the machine's address, and reports no usage statistics
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Server(NamedTuple):
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_configure(config):
    """The fast tier by default. Every marker declared in pyproject.toml is an opt-in tier (browser, cluster,
    torch, notebook, slow): deselected unless the command gives a marker expression of its own; ``-m ""``
    selects every tier, ``-m slow`` one of them."""
    if any(arg.startswith("-m") for arg in config.invocation_params.args):
        return
    tiers = [line.split(":")[0].strip() for line in config.getini("markers")]
    config.option.markexpr = " and ".join(f"not {tier}" for tier in tiers)


def pytest_runtest_setup(item):
    """A browser test skips, saying why, where Playwright is missing (its modules check for Chromium)."""
    if item.get_closest_marker("browser"):
        pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -r requirements-dev.txt")


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """``streamlit run`` of the requesting module's ``APP`` (default ``app.py``) on a free port, with the
    module's ``SERVER_ENV`` added to the environment, once its health check answers; stopped after the
    module's tests."""
    app = Path(getattr(request.module, "APP", ROOT / "app.py"))
    env = {**os.environ, **getattr(request.module, "SERVER_ENV", {})}
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app.name, "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=app.parent, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            assert process.poll() is None, f"the server exited: see {log_path}"
            assert time.monotonic() < deadline, "the server did not answer /_stcore/health within 60 s"
            time.sleep(0.2)
        yield Server(url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright (the module's tests skip where either is missing)."""
    sync_playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -r requirements-dev.txt").sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def forget_user_datasets():
    """Leave the process's dataset registry as it was: the app registers uploads in ``wil.DATASETS``, and
    other test modules iterate over it."""
    import wil

    before = set(wil.DATASETS)
    yield
    for name in set(wil.DATASETS) - before:
        del wil.DATASETS[name]

@pytest.fixture
def server_policy(monkeypatch):
    """Install a policy in every module of the app that holds one (they import it by name)."""
    def install(policy):
        for name, module in list(sys.modules.items()):
            if name.startswith("wil_app") and hasattr(module, "POLICY"):
                monkeypatch.setattr(module, "POLICY", policy)
    return install


@pytest.fixture
def train_in_server(server_policy):
    """Train the app's runs on a thread of this process, not in a trainer process (``wil_app/worker.py``):
    for a test that patches the library here (a patch does not reach another process)."""
    import dataclasses

    from wil_app.policy import POLICY

    server_policy(dataclasses.replace(POLICY, trainer_process=False))
