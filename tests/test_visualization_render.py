"""Figures from the plot data: plotly.js specs (escaping), plotly and matplotlib figures, `hyperdial plot`.

The escaping test opens the HTML in a real headless Chromium (Debian's, driven by Playwright):
names holding ``<script>`` and ``"><img onerror=...>`` must show as text and run nothing.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hyperdial as hd
from hyperdial.cli.main import main
from hyperdial.visualization import KINDS, plot, plot_history, plot_slice
from hyperdial.visualization.data import compute
from hyperdial.visualization.spec import figure_spec

EVIL = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>b</b>$x$'
CHROMIUM = "/usr/bin/chromium"


def _objective(trial: hd.Trial) -> float:
    x = trial.suggest_float(EVIL, 1e-3, 10.0, log=True)
    c = trial.suggest_categorical("opt", ["adam", EVIL, 1, None])
    if c == "adam":
        trial.suggest_int("layers", 1, 4)
    trial.set_user_attr(EVIL, EVIL)
    for step in range(4):
        trial.report(x / (step + 1), step)
        if trial.should_prune():
            raise hd.TrialPruned()
    return (x - 1.0) ** 2 + (0.5 if c == 1 else 0.0)


@pytest.fixture(scope="module")
def studies() -> dict[str, hd.Study]:
    logging.getLogger("hyperdial").setLevel(logging.WARNING)
    single = hd.create_study(study_name=EVIL, sampler=hd.samplers.Random(seed=0), pruner=hd.pruners.Median())
    single.optimize(_objective, n_trials=30, show_progress_bar=False)
    multi = hd.create_study(study_name="mo", directions=["minimize", "maximize", "minimize"],
                            sampler=hd.samplers.Random(seed=0))
    multi.optimize(lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1), t.suggest_float("c", 0, 1)),
                   n_trials=20, show_progress_bar=False)
    two = hd.create_study(study_name="two", directions=["minimize", "minimize"], sampler=hd.samplers.Random(seed=1))
    two.optimize(lambda t: (t.suggest_float("a", 0, 1), 1 - t.suggest_float("a", 0, 1) ** 0.5),
                 n_trials=20, show_progress_bar=False)
    return {"single": single, "multi": multi, "two": two}


def _args(kind: str, studies: dict[str, hd.Study]) -> tuple[hd.Study, dict[str, Any]]:
    if kind == "pareto":
        return studies["multi"], {}
    options: dict[str, Any] = {"objective_names": [EVIL]} if kind not in ("timeline", "intermediate") else {}
    if kind == "compare":
        options["other"] = studies["single"]
    if kind == "timeline":
        options["worker"] = lambda t: EVIL
    return studies["single"], options


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [k, *_strings(v)]]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return []


@pytest.mark.parametrize("kind", KINDS)
def test_spec_carries_user_text_escaped(kind: str, studies: dict[str, hd.Study]) -> None:
    study, options = _args(kind, studies)
    data = compute(kind, study.trials, study.directions, **options)
    spec = figure_spec(kind, data, title=EVIL)
    plain: list[str] = []  # parcoords tick labels: written as plain text by plotly.js, so given raw
    for trace in spec["data"]:
        for dim in trace.get("dimensions", []):
            plain += dim.pop("ticktext", [])
    if kind == "parallel_coordinate":
        assert EVIL in plain
    text = json.dumps(spec, allow_nan=False)
    assert "<img" not in text and "<script" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=" in text  # the names are there, as entities
    assert not any("hovertemplate" in s or "texttemplate" in s for s in _strings(spec))  # no %{...} filled in
    assert spec["layout"]["title"]["text"].startswith('"&gt;&lt;img')


@pytest.mark.parametrize("kind", KINDS)
def test_plotly_figure_has_points(kind: str, studies: dict[str, hd.Study]) -> None:
    study, options = _args(kind, studies)
    fig = plot(kind, study, **options)
    assert type(fig).__module__.startswith("plotly")
    points = 0
    for trace in fig.data:
        if trace.type == "parcoords":
            points += len(trace.dimensions[0].values)
        elif trace.type == "contour":
            points += sum(v is not None for row in trace.z for v in row)
        else:
            points += sum(v is not None for v in (trace.x or ()))
    assert points >= (3 if kind == "importance" else 10), f"{kind}: {points} points"


@pytest.mark.parametrize("kind", KINDS)
def test_matplotlib_renders_png(kind: str, studies: dict[str, hd.Study]) -> None:
    study, options = _args(kind, studies)
    fig = plot(kind, study, backend="matplotlib", **options)  # '$x$' in names: no mathtext, no parse error
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue().startswith(b"\x89PNG") and len(buf.getvalue()) > 3000
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    if kind not in ("pareto", "intermediate", "importance"):
        assert any(s.startswith('"><img src=x onerror="window.__') for s in texts)  # as typed, cut short


def test_matplotlib_shows_dollars_and_tags_as_typed() -> None:
    dist = hd.Categorical(["$a$", "$\\frac{", "<b>x</b>"])  # a formula, a broken one, a tag
    trials = [hd.FrozenTrial(number=i, state=hd.TrialState.COMPLETE, values=(float(i),), params={"p $": c},
                             distributions={"p $": dist}) for i, c in enumerate(dist.choices)]
    fig = plot("slice", trials, directions=["minimize"], backend="matplotlib")
    fig.savefig(io.BytesIO(), format="png", dpi=40)  # a mathtext parse error would raise here
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["\\$a\\$", "\\$\\frac{", "<b>x</b>"]
    assert ax.get_xlabel() == r"p \$"


def test_two_objective_pareto_and_three_d_option(studies: dict[str, hd.Study]) -> None:
    fig = plot("pareto", studies["two"])
    names = [t.name for t in fig.data]
    assert "Pareto front" in names and "hypervolume" in names
    data = compute("pareto", studies["multi"].trials, studies["multi"].directions)
    assert next(t["type"] for t in figure_spec("pareto", data, three_d=True)["data"]) == "scatter3d"


def test_plot_takes_trials_and_kind_functions(studies: dict[str, hd.Study]) -> None:
    trials = studies["single"].trials
    fig = plot_history(trials, directions=["minimize"])
    assert [t.name for t in fig.data] == ["value", "best value"]
    ticks = plot_slice(trials, directions=["minimize"], params=["opt"]).layout.xaxis.ticktext
    assert list(ticks) == ["adam", html.escape(EVIL, quote=False), "1", "None"]
    with pytest.raises(hd.exceptions.InvalidParameterError, match="directions"):
        plot("history", trials)
    with pytest.raises(hd.exceptions.InvalidParameterError, match="backend"):
        plot("history", studies["single"], backend="bokeh")


# -- the command line -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sqlite_study(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('plot') / 'p.db'}"
    study = hd.create_study(study_name=EVIL, storage=url, sampler=hd.samplers.Random(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 3), n_trials=12,
                   show_progress_bar=False)
    return url


def test_cli_writes_png_svg_and_offline_html(sqlite_study: str, tmp_path: Path) -> None:
    for name in ("h.png", "h.svg"):
        assert main(["--storage", sqlite_study, "plot", "history", EVIL, "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "h.svg").read_bytes()[:2000]
    # a real process, as users run it: the HTML carries plotly.js itself (no CDN <script src>)
    out = tmp_path / "s.html"
    proc = subprocess.run([sys.executable, "-m", "hyperdial", "--storage", sqlite_study, "plot", "slice", EVIL,
                           "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert len(html) > 1_000_000 and "<script src=" not in html and "Plotly.newPlot" in html


def test_cli_bad_kind_extension_and_study(sqlite_study: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--storage", sqlite_study, "plot", "histogram", EVIL, "--out", str(tmp_path / "x.png")]) == 2
    assert "unknown plot kind 'histogram'; choose one of: history, parallel_coordinate" in capsys.readouterr().err
    assert main(["--storage", sqlite_study, "plot", "history", EVIL, "--out", str(tmp_path / "x.jpg")]) == 2
    assert "--out must end in .png, .svg, .pdf, .html, got" in capsys.readouterr().err
    assert main(["--storage", sqlite_study, "plot", "history", "nope", "--out", str(tmp_path / "x.png")]) == 1
    assert "no study named 'nope'" in capsys.readouterr().err
    assert main(["--storage", sqlite_study, "plot", "compare", EVIL, "--out", str(tmp_path / "x.png")]) == 2
    assert "--other STUDY" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# -- a real browser: user text shows as text, runs nothing ------------------------------------------
@pytest.mark.slow  # starts Chromium: a few seconds on a quiet machine
def test_browser_shows_hostile_names_as_text(studies: dict[str, hd.Study], tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright")
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: install Debian's `chromium` (.ci/run does)")
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    kinds = ("slice", "parallel_coordinate", "importance", "timeline", "compare", "contour")
    divs = []
    for kind in kinds:  # one page, plotly.js loaded once
        study, options = _args(kind, studies)
        div = pio.to_html(plot(kind, study, **options), include_plotlyjs=False, full_html=False, div_id=kind)
        divs.append(div)
    path = tmp_path / "plots.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><script>{get_plotlyjs()}</script></head>"
                    f"<body>{''.join(divs)}</body></html>")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            for kind in kinds:
                page.wait_for_selector(f"#{kind} .main-svg")
            point = page.locator("#slice .point").first  # hover it: the hover label holds names too
            point.scroll_into_view_if_needed()
            box = point.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_selector("#slice .hovertext")
            seen = page.evaluate("""(kinds) => ({
                xss: window.__xss || 0,
                imgs: document.querySelectorAll('img').length,
                links: document.querySelectorAll('svg a').length,
                bold: document.querySelectorAll('svg text [style*="bold"]').length,
                texts: Object.fromEntries(kinds.map(k => [k,
                    Array.from(document.querySelectorAll('#' + k + ' svg text')).map(t => t.textContent)])),
                hover: Array.from(document.querySelectorAll('#slice .hovertext text')).map(t => t.textContent)})""",
                list(kinds))
            assert (seen["xss"], seen["imgs"], seen["links"], seen["bold"]) == (0, 0, 0, 0), seen
            for kind in kinds:  # axis titles, tick labels, legends, titles: the name as typed, never
                texts = seen["texts"][kind]  # shown escaped twice ("&lt;")
                assert any(EVIL in s for s in texts), (kind, texts[:20])
                assert not any("&lt;" in s or "&gt;" in s or "&amp;" in s for s in texts), (kind, texts[:20])
            assert any(EVIL in s for s in seen["hover"]), seen["hover"]
            assert not errors, errors
            # pytest's tmp dir, or $HYPERDIAL_SCREENSHOTS (relative to the repository root), as the dashboard's tests
            shots = Path(__file__).resolve().parents[1] / os.environ.get("HYPERDIAL_SCREENSHOTS", str(tmp_path))
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "plots-hostile-names.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.parametrize("kind", KINDS)
def test_empty_and_single_trial_studies_draw_a_message_or_a_point(kind: str) -> None:
    one = [hd.FrozenTrial(number=0, state=hd.TrialState.COMPLETE, values=(1.0, 2.0) if kind == "pareto" else (1.0,),
                          params={"x": 0.5}, distributions={"x": hd.Float(0, 1)}, intermediate_values={0: 1.0})]
    directions = ["minimize", "minimize"] if kind == "pareto" else ["minimize"]
    for trials in ([], one):
        options: dict[str, Any] = {"other": trials} if kind == "compare" else {}
        data = compute(kind, trials, directions, **options)
        spec = figure_spec(kind, data)
        json.dumps(spec, allow_nan=False)
        annotations = [a["text"] for a in spec["layout"].get("annotations", [])]
        assert spec["data"] or annotations, (kind, len(trials))  # never a blank figure
        plot(kind, trials, directions=directions, backend="matplotlib", **options).savefig(
            io.BytesIO(), format="png", dpi=20)
