"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from totalcapital.cli import app

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    """The three demo scenarios, run once through the CLI."""
    out = tmp_path_factory.mktemp("runs")
    outputs = {}
    for name in ("baseline", "colocate", "blue-light-hub"):
        result = invoke(
            "-q",
            "run",
            SCENARIOS / f"{name}.yaml",
            "--output-dir",
            out / "output",
            "--maps-dir",
            out / "maps",
            "--no-tiles",
        )
        assert result.exit_code == 0, result.output
        outputs[name] = (out / "output" / name, out / "maps" / f"{name}.html", result.output)
    return outputs


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (Playwright allows one sync driver at a time)."""
    from browser import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except FileNotFoundError as error:
            pytest.fail(str(error))
        yield chromium
        chromium.close()
