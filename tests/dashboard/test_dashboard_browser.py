"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against
a real uvicorn server on a loopback port: pages load without console errors, the table sorts and
filters, a trial finished by another writer appears without a reload, the plots draw their points,
hostile names show as text and never run. Screenshots (dashboard-*.png) go to pytest's tmp dir, or to
$HYPERDIAL_SCREENSHOTS (HYPERDIAL_SCREENSHOTS=docs/img refreshes the docs' images; docs/dashboard.md)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EVIL_PARAM, EVIL_STUDY, IMG, SCRIPT, Populated, Server, populate

import hyperdial as hd

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
expect = sync_api.expect
expect.set_options(timeout=30_000)
CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"),
]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Populated:
    populated = populate(tmp_path_factory.mktemp("browser"))
    two = hd.create_study(study_name="two objectives", storage=populated.url, directions=["minimize", "maximize"],
                          sampler=hd.samplers.Random(seed=2))
    two.optimize(lambda t: (t.suggest_float("a", 0, 1) ** 2, t.suggest_float("b", 0, 1) - t.params["a"]),
                 n_trials=40, show_progress_bar=False)
    return populated


@pytest.fixture(scope="module")
def server(data: Populated) -> Iterator[Server]:
    with Server(data.url, poll_ms=400) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Page:
    """A fresh page that records console errors, uncaught exceptions and dialogs (none may happen)."""

    def __init__(self, context: Any, server: Server) -> None:
        self.page = context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.base = server.url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path, wait_until="domcontentloaded")
        assert response is not None and response.status == 200, path
        return self.page

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.page.locator("img").count() == 0  # no injected <img onerror=...>
        assert self.page.evaluate("document.querySelectorAll('script:not([src])').length") == 0


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})  # shared: plotly.js is fetched once
    yield ctx
    ctx.close()


@pytest.fixture
def tab(context: Any, server: Server) -> Iterator[Page]:
    p = Page(context, server)
    yield p
    p.page.close()


def _shot(target: Any, name: str, shots: Path) -> None:
    target.screenshot(path=str(shots / f"dashboard-{name}.png"))


def _numbers(page: Any) -> list[int]:
    return [int(n) for n in page.eval_on_selector_all("#trials-table tbody tr", "rows => rows.map(r => r.dataset.number)")]


def test_studies_page(tab: Page, data: Populated, shots: Path) -> None:
    page = tab.goto("/")
    page.wait_for_selector("#studies tbody tr")
    names = page.eval_on_selector_all("#studies tbody td:first-child a", "links => links.map(a => a.textContent)")
    assert EVIL_STUDY in names and "sweep-study" in names
    row = page.locator("#studies tbody tr", has_text="study <script>")
    assert "running" in row.inner_text()
    _shot(page, "studies", shots)
    tab.check_clean()


def test_study_page_sorts_and_filters(tab: Page, data: Populated) -> None:
    page = tab.goto(f"/studies/{data.sid}")
    page.wait_for_selector("#trials-table tbody tr")
    rows = page.locator("#trials-table tbody tr")
    assert page.text_content("#study-name") == EVIL_STUDY  # literally, as text
    assert page.title().startswith(EVIL_STUDY)
    assert _numbers(page)[:3] == [0, 1, 2] and len(_numbers(page)) == 23
    headers = page.eval_on_selector_all("#trials-table th", "ths => ths.map(th => th.textContent)")
    assert any(EVIL_PARAM in h for h in headers)
    assert page.locator("#trials-table td", has_text=SCRIPT).count() > 0  # a categorical value, as text
    trials = data.study.trials
    best = data.study.best_trial.number
    page.click('th[data-sort="value"]')
    expect(rows.first).to_have_attribute("data-number", str(best))
    page.click('th[data-sort="value"]')  # again: descending
    worst = max((t for t in trials if t.values), key=lambda t: t.values[0]).number
    expect(rows.first).to_have_attribute("data-number", str(worst))
    page.check('input[name="state"][value="PRUNED"]')
    pruned = [t.number for t in trials if t.state == hd.TrialState.PRUNED]
    expect(rows).to_have_count(len(pruned))
    assert sorted(_numbers(page)) == pruned
    page.uncheck('input[name="state"][value="PRUNED"]')
    expect(rows).to_have_count(23)
    page.select_option("#filter-param", "x")
    page.fill("#filter-low", "0")
    page.fill("#filter-high", "1.5")
    page.click("#filter-add")
    inside = [t.number for t in trials if "x" in t.params and 0 <= t.params["x"] <= 1.5]
    expect(rows).to_have_count(len(inside))
    assert sorted(_numbers(page)) == inside
    page.click("#active-filters .x")
    page.select_option("#page-size", "25")
    expect(rows).to_have_count(23)
    tab.check_clean()


def test_plots_render(tab: Page, data: Populated, shots: Path) -> None:
    page = tab.goto(f"/studies/{data.sid}")
    page.locator("#plots-section").scroll_into_view_if_needed()
    page.wait_for_selector("#plot-history .main-svg")
    kinds = page.eval_on_selector_all(".plot", "divs => divs.map(d => d.dataset.kind)")
    assert {"history", "slice", "parallel_coordinate", "contour", "intermediate", "importance", "timeline"} <= set(kinds)
    for kind in kinds:
        page.wait_for_selector(f"#plot-{kind} .main-svg")
    points = page.locator("#plot-history .scatterlayer .point").count()
    assert points >= 19  # every COMPLETE trial is a point
    assert page.locator("#plot-slice .scatterlayer .point").count() > 0
    assert page.locator("#plot-intermediate .scatterlayer .trace").count() > 0
    assert page.locator("#plot-importance .barlayer .point").count() == 4  # one bar per parameter
    assert page.locator("#plot-parallel_coordinate canvas").count() > 0  # WebGL, drawn
    assert page.locator(".plot .no-webgl").count() == 0  # plotly's "WebGL is not supported" (CSP, GPU flags)
    page.wait_for_selector("#importance-box table.bars")
    page.wait_for_timeout(300)  # let plotly finish its transitions before the screenshots
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "study", shots)
    for kind in kinds:
        _shot(page.locator(f"#plot-{kind}").locator(".."), f"plot-{kind}", shots)
    # escaping inside the plots: the hostile categorical value is drawn as text
    svg_text = page.eval_on_selector_all(".plot svg text", "ts => ts.map(t => t.textContent).join(' ')")
    assert SCRIPT in svg_text or IMG in svg_text or EVIL_PARAM in svg_text
    # parcoords draws its tick labels as plain text: the categories read exactly as typed, never "&lt;script&gt;"
    ticks = page.eval_on_selector_all("#plot-parallel_coordinate svg .tick text", "ts => ts.map(t => t.textContent)")
    assert SCRIPT in ticks and IMG in ticks, ticks
    assert not any(entity in t for t in ticks for entity in ("&lt;", "&gt;", "&quot;", "&amp;")), ticks
    titles = page.eval_on_selector_all("#plot-parallel_coordinate svg text.axis-title", "ts => ts.map(t => t.textContent)")
    assert EVIL_PARAM in titles, titles  # the axis title, read as markup by plotly, is escaped: it too reads as typed
    tab.check_clean()


def test_pareto_plot(tab: Page, data: Populated, shots: Path) -> None:
    sid = data.study.storage.get_study("two objectives").study_id
    page = tab.goto(f"/studies/{sid}")
    page.locator("#plots-section").scroll_into_view_if_needed()
    page.wait_for_selector("#plot-pareto .main-svg")
    assert page.locator("#plot-pareto .scatterlayer .point").count() > 0
    page.wait_for_timeout(300)
    _shot(page.locator("#plot-pareto").locator(".."), "plot-pareto", shots)
    tab.check_clean()


def test_trial_pages(tab: Page, data: Populated, shots: Path) -> None:
    page = tab.goto(f"/studies/{data.sid}/trials/20")
    page.wait_for_selector("#fail-reason pre")
    assert page.text_content("#fail-reason pre") == f"ValueError: boom {SCRIPT}"
    assert page.eval_on_selector_all("#retry-chain a", "as => as.map(a => a.textContent)") == ["#21"]
    tab.check_clean()
    page = tab.goto(f"/studies/{data.sid}/trials/0")
    page.wait_for_selector("#user-attrs")
    assert SCRIPT in page.text_content("#user-attrs")
    assert page.locator("svg.spark polyline").count() == 1
    _shot(page, "trial", shots)
    page = tab.goto(f"/studies/{data.sweep_sid}/trials/0")
    expect(page.locator("#log")).to_contain_text("done")
    assert SCRIPT in page.text_content("#log")
    _shot(page, "trial-log", shots)
    page = tab.goto(f"/studies/{data.sweep_sid}")
    page.wait_for_selector("#sweep pre")
    assert SCRIPT in page.text_content("#sweep pre")
    tab.check_clean()


def test_live_update_without_reload(tab: Page, data: Populated) -> None:
    page = tab.goto(f"/studies/{data.sid}")
    page.wait_for_selector("#trials-table tbody tr")
    page.evaluate("window.__noReload = true")
    assert page.locator('#trials-table tr[data-number="22"]', has_text="RUNNING").count() == 1

    def another_writer() -> None:  # another Study object on the same SQLite file, as another process would be
        other = hd.load_study(study_name=EVIL_STUDY, storage=data.url, sampler=hd.samplers.Random(seed=5))
        other.tell(22, 0.123)
        t = other.ask()
        t.suggest_float("x", -3.0, 3.0)
        other.tell(t, 0.5)

    writer = threading.Thread(target=another_writer)
    writer.start()
    writer.join(30)
    page.wait_for_selector('#trials-table tr[data-number="23"]')
    page.wait_for_selector('#trials-table tr[data-number="22"] .state.complete')
    assert page.evaluate("window.__noReload") is True
    assert "24 trials" in page.text_content("#n-trials")
    tab.check_clean()


def test_sampler_choices_and_worker_shown(tab: Page, data: Populated) -> None:
    from hyperdial._execution import worker_name

    auto = hd.create_study(study_name="auto choices", storage=data.url, sampler=hd.samplers.Auto(seed=0, gp_max_trials=4))
    auto.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=6, show_progress_bar=False)
    sid = auto.storage.get_study("auto choices").study_id
    page = tab.goto(f"/studies/{sid}")
    rows = page.locator("#choices-box tbody tr")
    expect(rows).to_have_count(2)
    assert [r.split("\t") for r in rows.evaluate_all("rs => rs.map(r => r.innerText)")] == [
        ["1\u20133", "GP", "flat numeric space of 1 joint parameters, 1 < 4 trials"],
        ["4 onwards", "CMAES", "numeric space, a long run (4 trials)"]]
    page = tab.goto(f"/studies/{sid}/trials/2")
    facts = page.locator("#trial-facts")
    expect(facts).to_contain_text("GP: flat numeric space of 1 joint parameters, 1 < 4 trials (chosen at trial 1)")
    expect(facts).to_contain_text(worker_name())
    tab.check_clean()
