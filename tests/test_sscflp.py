"""The co-location core reaches published optima of Holmberg's SSCFLP instances."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "benchmarks" / "sscflp_holmberg"
sys.path.insert(0, str(ROOT / "benchmarks"))

from sscflp import (  # noqa: E402
    generate,
    published_optimum,
    read_instance,
    solve_core,
    solve_textbook,
    write_instance,
)

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize("name", ["p1", "p3", "p6", "p9", "p14", "p23"])
def test_published_optimum_reached(name):
    path = DATA / name
    model = solve_core(read_instance(path))
    assert model.solution.status == "optimal"
    assert model.solution.objective == pytest.approx(published_optimum(path), abs=1e-6)


def test_reader_layout():
    instance = read_instance(DATA / "p1")
    assert instance.cost.shape == (50, 10)  # customers x facilities
    assert instance.capacity[:3].tolist() == [258.0, 128.0, 296.0]
    assert instance.opening_cost[0] == 366.0
    assert instance.demand[:3].tolist() == [49.0, 29.0, 23.0]
    assert published_optimum(DATA / "p1") == 8848.0


def test_cbc_reaches_the_same_optimum():
    path = DATA / "p9"
    model = solve_core(read_instance(path), solver="cbc")
    assert (model.solution.solver, model.solution.status) == ("cbc", "optimal")
    assert model.solution.objective == pytest.approx(published_optimum(path), abs=1e-6)


def test_generated_instances_round_trip_and_are_as_tight_as_asked(tmp_path):
    instance = generate(12, 40, 1.1, seed=3, name="g")
    write_instance(instance, tmp_path / "g")
    back = read_instance(tmp_path / "g")
    for field in ("capacity", "opening_cost", "demand", "cost"):
        assert (getattr(back, field) == getattr(instance, field)).all(), field
    total = instance.demand.sum()
    assert 1.1 * total <= instance.capacity.sum() <= 1.1 * total + len(instance.capacity)


def test_core_and_textbook_agree_on_a_generated_instance_and_say_when_stopped():
    instance = generate(8, 24, 1.2, seed=5, name="g")
    model = solve_core(instance)
    value, status = solve_textbook(instance)
    assert (model.solution.status, status) == ("optimal", "optimal")
    assert model.solution.objective == pytest.approx(value, abs=1e-6)
    # A tight limit on a hard instance: CBC stops; PuLP's own status would still say Optimal.
    hard = generate(40, 200, 1.05, seed=1, name="hard")
    _, stopped = solve_textbook(hard, time_limit=1)
    assert stopped in ("stopped", "no plan")
