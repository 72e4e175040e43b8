"""Money figures on hand-made plans (no solver needed): F = 10 unless a test says otherwise."""

from __future__ import annotations

import pandas as pd
import pytest
from model_cases import AS_OF, estate, scenario, three_partners, two_sites

from totalcapital import finance, programme


def plan(decisions: dict[str, str], placement: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    return pd.Series(decisions, dtype=object), pd.Series(placement, dtype=object)


def test_annuity_factor():
    assert finance.annuity_factor(10, 0.0) == 10.0
    # (1 - 1.035 ** -25) / 0.035 = (1 - 0.4231470) / 0.035
    assert finance.annuity_factor(25, 0.035) == pytest.approx(16.481514, rel=1e-6)
    assert finance.annuity_factor(1, 0.1) == pytest.approx(1 / 1.1)


def test_site_costs_by_tenure_status_and_covenant():
    case = estate(
        [
            {
                "site_id": "F",
                "market_value": 300_000.0,
                "disposal_cost": 20_000.0,
                "backlog_cost": 5_000.0,
                "covenant": "cap",
                "covenant_receipt_cap": 100_000.0,
            },
            {
                "site_id": "L",
                "tenure": "leasehold",
                "lease_exit_cost": 7_000.0,
                "market_value": 50_000.0,
            },
            {
                "site_id": "C",
                "status": "candidate",
                "build_cost": 90_000.0,
                "running_cost": 2_000.0,
            },
        ],
        [{"service_id": "S", "current_site": "F"}],
    )
    costs = finance.site_costs(case, scenario())
    assert costs.loc["F", "net_receipt"] == 80_000.0  # min(300,000, cap 100,000) - 20,000
    assert costs.loc["F", "open_npv"] == 105_000.0  # 10 x 10,000 + backlog 5,000
    assert costs.loc["F", "closed_npv"] == -80_000.0
    assert costs.loc["L", "net_receipt"] == 0.0  # a lease earns no receipt
    assert costs.loc["L", "closed_npv"] == 7_000.0
    assert costs.loc["C", "open_npv"] == 110_000.0  # 90,000 + 10 x 2,000
    assert costs.loc["C", "before_npv"] == 0.0
    uncapped = finance.site_costs(case, scenario(rules={"covenants": False}))
    assert uncapped.loc["F", "net_receipt"] == 280_000.0


def test_lease_exit_allowed_only_at_a_break_within_the_horizon():
    case = estate(
        [
            {"site_id": "F"},
            {"site_id": "SOON", "tenure": "leasehold", "lease_break": "2030-06-30"},
            {"site_id": "LATE", "tenure": "leasehold", "lease_break": "2040-01-01"},
            {"site_id": "PAST", "tenure": "leasehold", "lease_break": "2020-01-01"},
            {"site_id": "NONE", "tenure": "leasehold"},
        ],
        [{"service_id": "S", "current_site": "F"}],
    )
    allowed = finance.lease_exit_allowed(case.sites, 10, True, AS_OF)
    assert dict(zip(case.sites.index, allowed.tolist(), strict=True)) == {
        "F": True,
        "SOON": True,
        "LATE": False,
        "PAST": False,
        "NONE": False,
    }
    assert finance.lease_exit_allowed(case.sites, 10, False, AS_OF).all()


def test_moves_table():
    case = two_sites()
    services = case.services.copy()
    services.loc["SB", ["fit_out_cost_per_m2", "staff"]] = [250.0, 4.0]
    case = type(case)(case.sites, services, None, "case", case.capabilities)
    _, placement = plan({}, {"SA": "A", "SB": "A"})
    moves = finance.moves_table(case, scenario(), placement)
    assert moves.to_dict("records") == [
        {
            "service_id": "SB",
            "org": "COUNCIL",
            "service_type": "council_office",
            "from_site": "B",
            "to_site": "A",
            "distance_km": pytest.approx(10.0),
            "fit_out_cost": 10_000.0,
            "moving_cost": 6_000.0,
            "total_cost": 16_000.0,
        }
    ]


def test_site_table_decision_vocabulary():
    case = estate(
        [
            {"site_id": "HOST"},
            {"site_id": "OWN"},
            {"site_id": "EMPTY"},
            {"site_id": "SOLD", "market_value": 70_000.0, "disposal_cost": 5_000.0},
            {"site_id": "LEASE", "tenure": "leasehold", "lease_exit_cost": 3_000.0},
            {"site_id": "NEW", "status": "candidate", "build_cost": 40_000.0},
            {"site_id": "IDEA", "status": "candidate", "build_cost": 40_000.0},
        ],
        [
            {"service_id": "S1", "current_site": "HOST"},
            {"service_id": "S2", "current_site": "SOLD", "org": "POLICE", "space_m2": 30.0},
            {"service_id": "S3", "current_site": "OWN"},
            {"service_id": "S4", "current_site": "LEASE", "fit_out_cost_per_m2": 100.0},
        ],
    )
    decisions, placement = plan(
        {
            "HOST": "keep",
            "OWN": "keep",
            "EMPTY": "keep",
            "SOLD": "dispose",
            "LEASE": "exit_lease",
            "NEW": "build",
            "IDEA": "not_built",
        },
        {"S1": "HOST", "S2": "HOST", "S3": "OWN", "S4": "NEW"},
    )
    table = programme.site_table(case, scenario(), decisions, placement)
    assert table["decision"].to_dict() == {
        "HOST": "host",
        "OWN": "keep",
        "EMPTY": "keep_vacant",
        "SOLD": "dispose",
        "LEASE": "exit_lease",
        "NEW": "build",
        "IDEA": "not_built",
    }
    host = table.loc["HOST"]
    assert (host["space_used_m2"], host["space_free_m2"]) == (70.0, 30.0)
    assert (host["services_hosted"], host["orgs_hosted"]) == ("S1, S2", "COUNCIL, POLICE")
    assert table.loc["SOLD", "receipt"] == 65_000.0
    assert table.loc["LEASE", "exit_cost"] == 3_000.0
    assert table.loc["NEW", "capex"] == 44_000.0  # build 40,000 + fit-out 100 x 40 m2
    assert table["running_cost_after"].to_dict() == {
        "HOST": 10_000.0,
        "OWN": 10_000.0,
        "EMPTY": 10_000.0,
        "SOLD": 0.0,
        "LEASE": 0.0,
        "NEW": 10_000.0,
        "IDEA": 0.0,
    }


def test_partner_ledger_and_totals_of_the_fair_three_partner_plan():
    case = three_partners()
    fair = scenario(rules={"partners_no_worse_off": True})
    decisions, placement = plan(
        {"A": "keep", "B": "keep", "C": "dispose"}, {"SA": "B", "SB": "A", "SC": "B"}
    )
    ledger = programme.partner_ledger(case, fair, decisions, placement)
    police = ledger.loc["POLICE"]
    # Police pay 60/100 x 10,000 at A and receive 60/100 + 40/100 of 10,000 at B.
    assert (police["rent_paid"], police["rent_received"]) == (6_000.0, 10_000.0)
    assert police["capex"] == 15_000.0  # 10 staff x 1,500
    assert police["npv_gain"] == pytest.approx(25_000.0)  # 10 x 4,000 - 15,000
    fire = ledger.loc["FIRE"]
    assert fire["annual_saving"] == pytest.approx(44_000.0)  # 50,000 running - 6,000 rent
    assert fire["sites_disposed"] == 1
    figures = programme.totals(case, fair, decisions, placement)
    assert figures["npv_cost_before"] == 700_000.0
    assert figures["npv_cost_after"] == 216_500.0  # 200,000 + 15,000 + 1,500
    assert figures["annual_saving"] == 50_000.0
    assert figures["services_moved"] == 3
    assert ledger["npv_gain"].sum() == pytest.approx(figures["npv_saving"])


def test_baseline_plan_costs_today_and_gains_nothing():
    case = three_partners()
    decisions, placement = plan(
        {"A": "keep", "B": "keep", "C": "keep"}, {"SA": "A", "SB": "B", "SC": "C"}
    )
    figures = programme.totals(case, scenario(), decisions, placement)
    assert figures["npv_saving"] == 0.0 and figures["capex"] == 0.0
    ledger = programme.partner_ledger(case, scenario(), decisions, placement)
    assert (ledger["npv_gain"] == 0.0).all()
