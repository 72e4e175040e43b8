"""The board pack: its figures against the result's own, escaping, the command, and the page
as a person sees and prints it in headless Chromium with the network refused.

The demo scenarios are solved once for the module and read back from their folders, as
``totalcapital report`` reads them. Figures are checked by formatting the result's numbers
here, independently of the report's own formatting.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from result_fixture import SCRIPT_NAME, make_result
from typer.testing import CliRunner

from totalcapital._errors import TotalCapitalError
from totalcapital.cli import EXIT_BAD_INPUT, app
from totalcapital.pipeline import run_scenario
from totalcapital.report import GENERATOR, board_pack, write_board_pack
from totalcapital.results import load_result, write_result
from totalcapital.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEMOS = ("baseline", "colocate", "blue-light-hub")
SECTIONS = (
    "question",
    "headlines",
    "assumptions",
    "programme",
    "decisions",
    "partners",
    "coverage",
    "solver",
    "map",
)

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def pounds(value: float) -> str:
    value = round(value)
    return f"-£{-value:,}" if value < 0 else f"£{value:,}"


def fy(year: float) -> str:
    year = int(year)
    return f"{year}-{(year + 1) % 100:02d}"


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """The demo scenarios, solved once and written as result folders."""
    out = tmp_path_factory.mktemp("report-runs")
    written = {}
    for name in DEMOS:
        result, _ = run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"))
        written[name] = write_result(result, out / name)
    return written


@pytest.fixture(scope="module")
def results(folders):
    return {name: load_result(folder) for name, folder in folders.items()}


@pytest.fixture(scope="module")
def pages(results) -> dict[str, Page]:
    return {name: Page(board_pack(result)) for name, result in results.items()}


class Page(HTMLParser):
    """The board pack read back: each section's text, and its tables as rows of cell text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.text: dict[str, list[str]] = {}
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.cards: dict[str, list[str]] = {}
        self._section: str | None = None
        self._cell: list[str] | None = None
        self._card: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs["id"]
            self.text[self._section] = []
            self.tables[self._section] = []
        elif tag == "table" and self._section:
            self.tables[self._section].append([])
        elif tag == "tr" and self._section:
            self.tables[self._section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "div" and "data-total" in attrs:
            self._card = attrs["data-total"]
            self.cards[self._card] = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._section:
            self.tables[self._section][-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._section:
            self.text[self._section].append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._card is not None and data.strip():
            self.cards[self._card].append(data.strip())

    def section_text(self, key: str) -> str:
        return " ".join(" ".join(self.text[key]).split())

    def rows(self, key: str, table: int = 0) -> list[list[str]]:
        return self.tables[key][table]


# --------------------------------------------------------------------------- content


def test_headline_figures_are_the_results_own(results, pages):
    for name, result in results.items():
        totals, cards = result.totals, pages[name].cards
        for key in (
            "npv_saving",
            "npv_cost_before",
            "npv_cost_after",
            "annual_saving",
            "receipts",
            "capital_spend",
            "lease_exit_costs",
        ):
            assert cards[key][1] == pounds(totals[key]), (name, key)
        if totals["first_year"] is None:
            assert cards["years"][1] == "none"
        else:
            assert cards["years"][1] == f"{fy(totals['first_year'])} to {fy(totals['last_year'])}"
    hub = results["blue-light-hub"]
    assert hub.totals["npv_saving"] > 1e6  # the figure checked above is a real saving


def test_every_site_decision_appears_with_its_year_and_money(results, pages):
    for name, result in results.items():
        changed = result.sites[result.sites["decision"].isin(["dispose", "exit_lease", "build"])]
        if changed.empty:
            assert "No site is sold, given up or built." in pages[name].section_text("decisions")
            continue
        rows = {row[2]: row for row in pages[name].rows("decisions")[1:]}
        assert len(rows) == len(changed), name
        for _, site in changed.iterrows():
            row = rows[site["name"]]
            assert row[1] == fy(site["decision_year"]), (name, site["name"])
            money = {
                "dispose": site["receipt"],
                "exit_lease": site["exit_cost"],
                "build": site["build_cost"],
            }[site["decision"]]
            assert row[6].startswith(pounds(money)), (name, site["name"], row)
            if site["decision"] == "build":
                assert f"starts {fy(site['build_start_year'])}" in row[5]
    hub = results["blue-light-hub"].sites
    assert hub.loc["MAL-FIRE", "decision"] == "dispose"  # the hub demo sells the fire station
    assert "Malton Fire Station" in pages["blue-light-hub"].section_text("decisions")


def test_every_move_appears_with_its_year_and_both_sites_by_name(results, pages):
    hub, page = results["blue-light-hub"], pages["blue-light-hub"]
    rows = page.rows("decisions", 1)[1:]
    assert len(rows) == len(hub.moves) > 0
    names = hub.sites["name"]
    by_service = {re.search(r"\((.+)\)", row[1]).group(1): row for row in rows}
    for _, move in hub.moves.iterrows():
        row = by_service[move["service_id"]]
        assert row[0] == fy(move["move_year"])
        assert row[3] == names[move["from_site"]] and row[4] == names[move["to_site"]]
        assert row[6] == pounds(move["total_cost"])
    # Site ids never stand in for names.
    assert "MAL-FIRE" not in page.section_text("decisions")
    assert pages["baseline"].section_text("decisions").endswith("No service moves.")


def test_programme_table_and_chart_follow_the_programme(results, pages):
    for name, result in results.items():
        total = result.programme[result.programme["partner"] == "Total"]
        total = total.sort_values("financial_year")
        rows = pages[name].rows("programme")
        header, body, footer = rows[0], rows[1:-1], rows[-1]
        assert [row[0] for row in body] == [fy(y) for y in total["financial_year"]]
        receipts = header.index("Receipts")
        cumulative = header.index("Cumulative net cash")
        assert [row[receipts] for row in body] == [pounds(v) for v in total["receipts"]]
        assert footer[receipts] == pounds(total["receipts"].sum())
        assert footer[receipts] == pounds(result.totals["receipts"])
        assert footer[cumulative] == pounds(total["cumulative_net_cash"].iloc[-1])

        html = pages[name].html
        chart = html[html.index('<svg class="chart') : html.index("</svg>")]
        groups = re.findall(r'<g class="bar-group" data-year="([^"]+)">', chart)
        assert groups == [fy(y) for y in total["financial_year"]]
        bars = {
            kind: [
                float(h)
                for h in re.findall(
                    rf'class="bar {kind}" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"',
                    chart,
                )
            ][: len(groups)]  # the legend's swatches come after the year groups
            for kind in ("receipts", "spend")
        }
        values = {"receipts": total["receipts"].tolist(), "spend": total["capital_spend"].tolist()}
        # Both kinds of bar are drawn to one scale: height proportional to £.
        top = max(max(v) for v in values.values())
        tallest = max(max(h) for h in bars.values())
        for kind in bars:
            expected = [v / top * tallest if top else 0.0 for v in values[kind]]
            assert bars[kind] == pytest.approx(expected, abs=0.02), (name, kind)
    hub = results["blue-light-hub"].programme
    assert (hub.loc[hub["partner"] == "Total", "receipts"] > 0).sum() >= 2  # bars in two years


def test_partners_gain_and_loss_marked_in_words_and_sum_to_the_saving(results, pages):
    hub, page = results["blue-light-hub"], pages["blue-light-hub"]
    rows = page.rows("partners")
    body = {row[0]: row for row in rows[1:-1]}
    assert set(body) == set(hub.ledger.index)
    for partner, gain in hub.ledger["npv_gain"].items():
        mark = "▲ gains" if gain > 0.5 else "▼ loses" if gain < -0.5 else "● no change"
        assert body[partner][1] == mark
        assert body[partner][2] == pounds(gain)
    assert rows[-1][2] == pounds(hub.totals["npv_saving"])
    assert (hub.ledger["npv_gain"] < -0.5).any()  # the hub run has a loser: NYFRS


def test_compensation_says_who_pays_whom_how_much_a_year(results, pages):
    hub = results["blue-light-hub"]
    assert not hub.compensation.empty
    rows = {(row[0], row[1]): row for row in pages["blue-light-hub"].rows("partners", 1)[1:]}
    pairs = hub.compensation.groupby(["payer", "payee"])
    assert set(rows) == set(pairs.groups)
    for (payer, payee), part in pairs:
        row = rows[(payer, payee)]
        assert row[2] == pounds(part["amount"].iloc[0])
        assert row[3].startswith(f"{fy(part['financial_year'].min())} to ")
        assert row[4] == pounds(part["amount"].sum())
    assert "No partner is worse off" in pages["baseline"].section_text("partners")


def test_cover_before_after_and_lowest_for_every_standard_and_access_rule(results, pages):
    for name, result in results.items():
        rows = {row[0]: row for row in pages[name].rows("coverage")[1:]}
        scenario = result.scenario
        expected = {s["name"] for s in scenario["standards"]} | {
            a["name"] for a in scenario["access"]
        }
        assert set(rows) == expected == set(result.coverage["name"])
        for _, cover in result.coverage.iterrows():
            row = rows[cover["name"]]
            assert row[5:8] == [
                f"{cover['share_before']:.1%}",
                f"{cover['share_after']:.1%}",
                f"{cover['share_lowest']:.1%}",
            ]
    # The hub improves fire cover; the page marks the gain in words.
    fire = {row[0]: row for row in pages["blue-light-hub"].rows("coverage")[1:]}["fire_10min"]
    assert fire[8].startswith("▲ +")


def test_question_assumptions_and_solver_come_from_the_scenario(results, pages):
    hub, page = results["blue-light-hub"], pages["blue-light-hub"]
    question = page.section_text("question")
    assert hub.scenario["description"] in question
    assert "none (the scenario as written)" in question
    assumptions = page.section_text("assumptions")
    finance, programme = hub.scenario["finance"], hub.scenario["programme"]
    assert f"{finance['discount_rate']:.1%} a year" in assumptions
    assert f"{finance['horizon_years']} years" in assumptions
    assert f"{programme['years']} financial years" in assumptions
    assert f"{finance['receipts_recycled_share']:.0%} of receipts" in assumptions
    assert "on: freeholds still held" in assumptions
    assert f"{programme['build_years']} years from start to opening" in assumptions
    solver = page.section_text("solver")
    assert hub.solve["verification"] in solver
    assert f"{hub.solve['gap']:.3%}" in solver
    assert pounds(hub.solve["best_bound"]) in solver
    assert hub.solve["solver_status"] in solver

    changed = editable(hub)
    changed.scenario["applied_overrides"] = ["partners_no_worse_off"]
    changed.scenario["finance"]["residual_value"] = False
    changed.scenario["finance"]["capital_budget_per_year"] = 250_000
    changed.scenario["finance"]["budget_counts"] = ["builds", "lease_exits"]
    again = Page(board_pack(changed))
    assert "Overrides applied partners_no_worse_off" in again.section_text("question")
    assumptions = again.section_text("assumptions")
    assert "off: freeholds still held" in assumptions
    assert "£250,000 a year" in assumptions
    assert "new builds, lease exit costs" in assumptions


def editable(result):
    """A copy of a shared result whose tables and scenario a test may change."""
    return dataclasses.replace(
        result,
        scenario=copy.deepcopy(result.scenario),
        sites=result.sites.copy(),
    )


def test_map_draws_every_site_to_one_scale_with_grid_north_up(results, pages):
    hub, html = results["blue-light-hub"], pages["blue-light-hub"].html
    overview = html[html.index('data-panel="overview"') :]
    overview = overview[: overview.index('<g class="scale-bar"') + 200]
    drawn = re.findall(
        r'<g class="map-site" data-x="([^"]+)" data-y="([^"]+)"><title>([^<]+)', overview
    )
    assert len(drawn) == len(hub.sites)
    points = hub.sites.geometry.representative_point()
    where = {}
    for x, y, title in drawn:
        name = title.rsplit(": ", 1)[0]
        where[name] = (float(x), float(y))
    names = hub.sites["name"]
    bar = re.search(r'data-metres="([^"]+)" data-px="([^"]+)"', overview)
    px_per_metre = float(bar.group(2)) / float(bar.group(1))
    ids = list(hub.sites.index)
    for a, b in zip(ids, ids[1:], strict=False):
        (ax, ay), (bx, by) = (
            where[escape(names[a], quote=True)],
            where[escape(names[b], quote=True)],
        )
        dx, dy = points[b].x - points[a].x, points[b].y - points[a].y
        assert bx - ax == pytest.approx(dx * px_per_metre, abs=0.02)
        assert by - ay == pytest.approx(-dy * px_per_metre, abs=0.02)  # north is up
    decided = hub.sites["decision"]
    assert overview.count('class="site site-dispose"') == (decided == "dispose").sum()
    assert overview.count('class="site site-build"') == (decided == "build").sum()
    # Every move is drawn as an arrow, on the overview or (where too short there) a detail.
    arrows = set(re.findall(r'<line class="move"[^>]+><title>([^<]+)</title>', html))
    expected = {
        escape(f"{names[a]} to {names[b]}: {', '.join(part['service_id'])}", quote=True)
        for (a, b), part in hub.moves.groupby(["from_site", "to_site"])
    }
    assert arrows == expected
    assert 'data-panel="detail-A"' in html  # the crowded Malton sites get a detail


def test_estate_text_is_escaped(results):
    hub = editable(results["blue-light-hub"])
    hub.sites.loc["MAL-FIRE", "name"] = SCRIPT_NAME
    hub.sites.loc["MAL-FIRE", "owner"] = "<i>NY&FRS</i>"
    hub.scenario["description"] = "Share <b>everything</b> & sell"
    html = board_pack(hub)
    assert "<script" not in html.lower()
    assert "<b>everything</b>" not in html and "<i>" not in html
    assert html.count(escape(SCRIPT_NAME)) >= 3  # decisions, map title, map key
    assert "Share &lt;b&gt;everything&lt;/b&gt; &amp; sell" in html
    page = Page(html)
    assert SCRIPT_NAME in [row[2] for row in page.rows("decisions")]


def test_page_needs_nothing_from_outside(pages):
    for page in pages.values():
        html = page.html
        for banned in ("<script", "<link", "<img", "<iframe", "@import", "http://", "https://"):
            assert banned not in html.lower(), banned
        # Every url(...) is a reference inside the page (a pattern or an arrow head).
        assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", html))
        assert "@page { size: A4" in html


def test_a_result_without_a_programme_still_makes_a_page():
    page = Page(board_pack(make_result()))
    assert "holds no programme" in page.section_text("programme")
    assert SCRIPT_NAME in page.section_text("decisions")
    assert page.cards["npv_saving"][1] == "£4,730,000"


# --------------------------------------------------------------------------- command


def test_report_command_writes_every_demo_and_defaults_to_reports(folders, tmp_path, monkeypatch):
    for name, folder in folders.items():
        target = tmp_path / "out" / f"{name}.html"
        run = invoke("report", folder, "--out", target)
        assert run.exit_code == 0, run.output
        assert GENERATOR in target.read_text(encoding="utf-8")
        assert str(target) in run.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.html" for name in DEMOS
    )  # no staging files left behind
    monkeypatch.chdir(tmp_path)
    run = invoke("report", folders["colocate"])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "reports" / "colocate.html").is_file()
    # An earlier board pack is replaced.
    run = invoke("report", folders["colocate"])
    assert run.exit_code == 0, run.output


def test_report_command_refuses_bad_targets_and_folders(folders, tmp_path):
    folder = folders["colocate"]
    before = sorted(p.name for p in folder.iterdir())
    other = tmp_path / "notes.html"
    other.write_text("<p>minutes of the last board</p>", encoding="utf-8")
    (tmp_path / "plain").write_text("a file", encoding="utf-8")
    cases = [
        (("report", tmp_path / "nowhere"), "found no such folder"),
        (("report", folder, "--out", folder / "pack.html"), "inside the result folder"),
        (("report", folder, "--out", other), "not replacing it"),
        (("report", folder, "--out", tmp_path / "pack.xlsx"), "ending in .html"),
        (("report", folder, "--out", tmp_path / "plain" / "pack.html"), "cannot write"),
        (("report", folder, "--out", tmp_path), "ending in .html"),
    ]
    for args, message in cases:
        run = invoke(*args)
        assert run.exit_code == EXIT_BAD_INPUT, (args, run.output)
        assert message in " ".join(run.output.split()), (args, run.output)
        assert "Traceback" not in run.output
    assert sorted(p.name for p in folder.iterdir()) == before
    assert other.read_text(encoding="utf-8") == "<p>minutes of the last board</p>"


def test_write_board_pack_leaves_an_earlier_page_whole_when_it_fails(
    results, tmp_path, monkeypatch
):
    target = write_board_pack(results["baseline"], tmp_path / "pack.html")
    earlier = target.read_text(encoding="utf-8")

    def refuse(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("totalcapital.report.os.replace", refuse)
    with pytest.raises(TotalCapitalError, match="pack.html: cannot write the board pack: No space"):
        write_board_pack(results["colocate"], target)
    assert target.read_text(encoding="utf-8") == earlier
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]


# --------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def pack_file(results, tmp_path_factory) -> Path:
    hub = editable(results["blue-light-hub"])
    hub.sites.loc["NOR-DEPOT", "name"] = SCRIPT_NAME
    return write_board_pack(hub, tmp_path_factory.mktemp("pack") / "hub.html")


def open_offline(browser, path: Path):
    """Open a page with every request but the page itself refused; log what a person sees."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log = {"requests": [], "failed": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: log["requests"].append(r.url))
    page.on("requestfailed", lambda r: log["failed"].append(r.url))
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    own = path.resolve().as_uri()
    page.route("**/*", lambda route, req: route.continue_() if req.url == own else route.abort())
    page.goto(own)
    page.wait_for_load_state("load")
    return page, log


@pytest.mark.browser
def test_board_pack_renders_offline_with_its_drawings(browser, pack_file, results):
    page, log = open_offline(browser, pack_file)
    assert log["requests"] == [pack_file.resolve().as_uri()]
    assert log["failed"] == [] and log["errors"] == [] and log["dialogs"] == []
    for selector in ("svg.programme-chart", "svg.site-map"):
        box = page.locator(selector).bounding_box()
        assert box["width"] > 500 and box["height"] > 200, selector
    years = results["blue-light-hub"].programme["financial_year"].nunique()
    assert page.locator("svg.programme-chart g.bar-group").count() == years
    # Estate text that looks like markup is shown as text.
    assert page.locator("script").count() == 0
    assert SCRIPT_NAME in page.locator("#decisions").inner_text()
    page.close()


@pytest.mark.browser
def test_board_pack_prints_on_a4_with_nothing_hidden(browser, pack_file, results):
    from pypdf import PdfReader

    hub = results["blue-light-hub"]
    page, log = open_offline(browser, pack_file)
    page.emulate_media(media="print")
    for key in SECTIONS:
        section = page.locator(f"section#{key}")
        assert section.is_visible(), key
        box = section.bounding_box()
        assert box["width"] > 300 and box["height"] > 40, key
    pdf = page.pdf(format="A4")
    page.close()
    assert pdf.startswith(b"%PDF") and len(pdf) > 30_000
    reader = PdfReader(io.BytesIO(pdf))
    assert 4 <= len(reader.pages) <= 12
    for sheet in reader.pages:
        width, height = float(sheet.mediabox.width), float(sheet.mediabox.height)
        assert (width, height) == pytest.approx((595.3, 841.9), abs=1.5)  # A4 in points
    sheets = [" ".join(sheet.extract_text().split()) for sheet in reader.pages]
    printed = " ".join(sheets)
    # A short table is never cut: every "sold in" row of the decisions is on one page.
    sold = int((hub.sites["decision"] == "dispose").sum())
    assert max(sheet.count("sold in ") for sheet in sheets) == sold > 0
    for heading in (
        "The question asked",
        "Headline figures",
        "Assumptions",
        "The programme, year by year",
        "Dated decisions",
        "Who gains and who loses",
        "Cover before and after",
        "What the solver proved",
        "Map",
    ):
        assert heading in printed, heading
    assert pounds(hub.totals["npv_saving"]) in printed
    for name in hub.sites.loc[hub.sites["decision"] == "dispose", "name"]:
        if name != "Norton Highways Depot":  # renamed to the script text in this page
            assert name in printed, name
    assert SCRIPT_NAME in printed
    assert f"Page 1 of {len(reader.pages)}" in printed
    assert log["errors"] == []
