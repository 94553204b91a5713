"""Scores and markdown tables for `samplers.py`'s results file (no problem code needed).

- Normalised regret of a run at budget B: (best_B - f_opt) / (f_ref - f_opt), where
  best_B is the best value among its first B trials, f_ref the median value of random
  configurations of the problem (1.0 = as good as a typical random configuration,
  0 = the optimum), and f_opt the known optimum (synthetic, BBOB) or, where none is
  known (scikit-learn, YAHPO), the best value seen anywhere in the results file
  (every sampler, seed, and the random reference sample). Mean over problems x seeds
  within a group; "overall" is the mean of the group means, so the 12 BBOB problems
  weigh as much as the 5 synthetic ones.
- Rank: the samplers are ranked by best_B on each problem x seed x budget (ties share
  the mean rank; 1 is best), over the cells where every compared sampler has a run;
  averaged like the regret.
- Time: milliseconds per trial outside the objective (ask + suggest_* + tell), mean
  over a run's first B trials, then over runs.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

SECTION = "## Sampler quality"


def _rank(values: list[float]) -> list[float]:
    """Ranks from 1 (smallest), ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def normalisers(data: dict[str, Any], problems: list[str]) -> dict[str, tuple[float, float, bool]]:
    """problem -> (f_opt, f_ref, f_opt known); problems without a usable reference are left out."""
    best_seen: dict[str, float] = {}
    for run in data["runs"].values():
        if run.get("error") or not run.get("best"):
            continue
        last = next((v for v in reversed(run["best"]) if v is not None), None)
        if last is not None:
            best_seen[run["problem"]] = min(best_seen.get(run["problem"], math.inf), last)
    out = {}
    for name in problems:
        ref = data["references"].get(name)
        if not ref or ref.get("error"):
            continue
        known = ref.get("f_opt") is not None
        f_opt = float(ref["f_opt"]) if known else min(ref["min"], best_seen.get(name, math.inf))
        f_ref = float(ref["median"])
        if f_ref - f_opt > 0:
            out[name] = (f_opt, f_ref, known)
    return out


class Scores:
    """Normalised regret, ranks and time per sampler, by group and budget."""

    def __init__(self, data: dict[str, Any], problems: list[str], samplers: list[str], seeds: int,
                 budgets: tuple[int, ...], splits: dict[str, str] | None = None) -> None:
        self.samplers = samplers
        self.norm = normalisers(data, problems)
        self.problems = [p for p in problems if p in self.norm]
        self.group_of: dict[str, str] = {}
        for key, ref in data["references"].items():
            if key in self.norm:  # a problem in a tuning/reporting split is reported with its split, never mixed
                split = (splits or {}).get(key)
                self.group_of[key] = f"{ref.get('group', '?')}, {split} split" if split else ref.get("group", "?")
        self.groups = list(dict.fromkeys(self.group_of[p] for p in self.problems))
        self.budgets = budgets
        # (group, budget, sampler) -> list of regrets / ranks / ms
        self.regret: dict[tuple[str, int, str], list[float]] = defaultdict(list)
        self.rank: dict[tuple[str, int, str], list[float]] = defaultdict(list)
        self.ms: dict[tuple[str, int, str], list[float]] = defaultdict(list)
        self.per_problem: dict[tuple[str, int, str], list[float]] = defaultdict(list)
        self.cell: dict[tuple[str, int, str], dict[tuple[str, int], float]] = defaultdict(dict)  # (problem, seed) -> regret
        self.cells: dict[tuple[str, int], int] = defaultdict(int)  # complete (all samplers) cells per group, budget
        for p in self.problems:
            f_opt, f_ref, _ = self.norm[p]
            g = self.group_of[p]
            for seed in range(seeds):
                for b in budgets:
                    vals: dict[str, float] = {}
                    for s in samplers:
                        run = data["runs"].get(f"{p}|{s}|{seed}")
                        if not run or run.get("error") or len(run.get("best") or []) < b:
                            continue
                        v = run["best"][b - 1]
                        if v is None:
                            continue
                        vals[s] = v
                        r = max(0.0, v - f_opt) / (f_ref - f_opt)
                        self.regret[(g, b, s)].append(r)
                        self.per_problem[(p, b, s)].append(r)
                        self.cell[(g, b, s)][(p, seed)] = r
                        self.ms[(g, b, s)].append(1e3 * sum(run["overhead"][:b]) / b)
                    if vals and len(vals) == len(samplers):
                        self.cells[(g, b)] += 1
                        for s, r in zip(samplers, _rank([vals[s] for s in samplers])):
                            self.rank[(g, b, s)].append(r)

    def group_mean(self, table: dict[tuple[str, int, str], list[float]], g: str, b: int, s: str) -> float | None:
        xs = table.get((g, b, s))
        return sum(xs) / len(xs) if xs else None

    def group_se(self, g: str, b: int, s: str) -> float | None:
        """Standard error of the group's mean regret (over its problem x seed cells)."""
        return _se(self.regret.get((g, b, s)) or [])

    def versus(self, g: str, b: int, s: str, ref: str) -> tuple[float, float, float, int] | None:
        """(ratio of mean regrets s / ref, mean paired difference s - ref, its standard error, cells).

        Paired by problem and seed, so the spread between problems does not hide a difference."""
        a, r = self.cell.get((g, b, s), {}), self.cell.get((g, b, ref), {})
        keys = sorted(set(a) & set(r))
        if len(keys) < 2:
            return None
        d = [a[k] - r[k] for k in keys]
        ma, mr = sum(a[k] for k in keys) / len(keys), sum(r[k] for k in keys) / len(keys)
        return (ma / mr if mr > 0 else math.inf), sum(d) / len(d), _se(d) or 0.0, len(keys)

    def overall(self, table: dict[tuple[str, int, str], list[float]], b: int, s: str) -> float | None:
        """Mean of the group means over the groups where every compared sampler has data at this budget."""
        groups = [g for g in self.groups if all(table.get((g, b, t)) for t in self.samplers)]
        if not groups:
            return None
        return sum(self.group_mean(table, g, b, s) or 0.0 for g in groups) / len(groups)

    def overall_ms(self, b: int, s: str) -> float | None:
        xs = [x for g in self.groups for x in self.ms.get((g, b, s), [])]
        return sum(xs) / len(xs) if xs else None

    def budgets_with_data(self) -> list[int]:
        return [b for b in self.budgets if any(self.regret.get((g, b, s)) for g in self.groups for s in self.samplers)]


def _se(xs: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))


def verdict(diff: float, se: float) -> str:
    """'beats' / 'behind' only where the difference exceeds its standard error; 'level' otherwise."""
    if round(abs(diff), 3) <= round(se, 3):  # as printed: a "beats" never shows a difference equal to its se
        return "level"
    return "beats" if diff < 0 else "behind"


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if digits == 0:
        return f"{x:.0f}"
    return f"{x:.{digits}f}" if abs(x) >= 10 ** -digits or x == 0 else f"{x:.1e}"


def _table(header: list[str], rows: list[list[float | None]], names: list[str], digits: list[int]) -> list[str]:
    """Markdown table; the best (smallest) value of each column in bold."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    best = []
    for j in range(len(digits)):
        col = [x for r in rows if (x := r[j]) is not None]
        best.append(min(col) if len(col) > 1 else None)
    for name, row in zip(names, rows):
        cells = []
        for j, x in enumerate(row):
            s = _fmt(x, digits[j])
            cells.append(f"**{s}**" if best[j] is not None and x is not None and _fmt(best[j], digits[j]) == s else s)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _scores_table(sc: Scores, budgets: list[int], group: str | None) -> list[str]:
    header = ["sampler"] + [f"regret@{b}" for b in budgets] + [f"rank@{b}" for b in budgets]
    rows = []
    for s in sc.samplers:
        if group is None:
            rows.append([sc.overall(sc.regret, b, s) for b in budgets] + [sc.overall(sc.rank, b, s) for b in budgets])
        else:
            rows.append([sc.group_mean(sc.regret, group, b, s) for b in budgets]
                        + [sc.group_mean(sc.rank, group, b, s) for b in budgets])
    return _table(header, rows, sc.samplers, [3] * len(budgets) + [2] * len(budgets))


def targets(sc: Scores, budgets: list[int]) -> list[str]:
    """The issue's targets, each met / not met / not evaluated, with the numbers behind the verdict."""
    out = []
    have = set(sc.samplers)
    if {"hd:Auto", "optuna:TPE"} <= have:
        best_everywhere = []
        for b in budgets:
            ranks = {s: sc.overall(sc.rank, b, s) for s in sc.samplers}
            if all(v is not None for v in ranks.values()):
                best_everywhere.append(min(ranks, key=lambda s: ranks[s] or 0.0) == "hd:Auto")
        verdict = "met" if best_everywhere and all(best_everywhere) else "not met"
        out.append(f"- `Auto` has the best average rank at every budget: **{verdict}** "
                   f"({sum(best_everywhere)} of {len(best_everywhere)} budgets).")
        a, t = sc.overall(sc.regret, 100, "hd:Auto"), sc.overall(sc.regret, 100, "optuna:TPE")
        if a is not None and t is not None:
            verdict = "met" if a <= 0.5 * t else "not met"
            out.append(f"- `Auto`'s normalised regret at 100 trials is at most half of Optuna's default TPE: "
                       f"**{verdict}** ({a:.3f} vs {t:.3f}, ratio {a / t if t else math.inf:.2f}).")
        else:
            out.append("- `Auto`'s normalised regret at 100 trials is at most half of Optuna's default TPE: "
                       "**not evaluated** (no results at 100 trials).")
    else:
        out.append("- `Auto` targets (best average rank at every budget; regret at 100 trials <= half of Optuna's TPE): "
                   "**not evaluated** (`hd:Auto` and `optuna:TPE` must both be in the run).")
    if {"hd:GP", "optuna:GP"} <= have:
        rows = [(b, h, o) for b in budgets
                if (h := sc.overall(sc.regret, b, "hd:GP")) is not None
                and (o := sc.overall(sc.regret, b, "optuna:GP")) is not None]
        verdict = "met" if rows and all(h <= o for _, h, o in rows) else "not met"
        detail = ", ".join(f"@{b}: {h:.3f} vs {o:.3f}" for b, h, o in rows)
        out.append(f"- `GP` at least matches Optuna's GPSampler (normalised regret at every budget): **{verdict}** ({detail}).")
        b = 100 if 100 in budgets else max(budgets)
        h_ms, o_ms = sc.overall_ms(b, "hd:GP"), sc.overall_ms(b, "optuna:GP")
        if h_ms and o_ms:
            verdict = "met" if o_ms / h_ms >= 3 else "not met"
            out.append(f"- `GP` runs >= 3x faster than Optuna's GPSampler (ms per trial over {b} trials): "
                       f"**{verdict}** ({h_ms:.1f} vs {o_ms:.1f} ms, {o_ms / h_ms:.1f}x).")
    else:
        out.append("- `GP` targets (matches Optuna's GPSampler; >= 3x faster): **not evaluated** "
                   "(`hd:GP` and `optuna:GP` must both be in the run).")
    return out


AUTO = "hd:Auto"
REFERENCES = ("optuna:TPE-grouped", "optuna:TPE")  # what the ratio columns compare with: the first one run


def same_as_auto(data: dict[str, Any], problems: list[str], samplers: list[str], seeds: int, budget: int) -> list[str]:
    """hyperdial samplers whose every run equals Auto's (Auto ran them): shown once, as Auto."""
    out = []
    for s in samplers:
        if s == AUTO or not s.startswith("hd:") or AUTO not in samplers:
            continue
        pairs = [(data["runs"].get(f"{p}|{s}|{k}"), data["runs"].get(f"{p}|{AUTO}|{k}")) for p in problems
                 for k in range(seeds)]
        pairs = [(a, b) for a, b in pairs if a and b and not a.get("error") and not b.get("error")]
        if pairs and all(a["best"][:budget] == b["best"][:budget] for a, b in pairs):
            out.append(s)
    return out


def auto_ran(data: dict[str, Any], problems: list[str], seeds: int, budget: int) -> list[str]:
    """The algorithms Auto ran (after its first, space-less trial) within `budget` trials, in order of first use."""
    seen: list[str] = []
    for p in problems:
        for k in range(seeds):
            run = data["runs"].get(f"{p}|{AUTO}|{k}") or {}
            for n, algo in run.get("auto", []):
                if 0 < n < budget and algo not in seen:
                    seen.append(algo)
    return seen


def _label(s: str, ran: list[str]) -> str:
    return f"{s} ({'/'.join(ran)})" if s == AUTO and ran else s


def _pm(x: float | None, se: float | None) -> str:
    return "-" if x is None else f"{x:.3f} ± {se:.3f}" if se is not None else f"{x:.3f}"


def split_table(sc: Scores, g: str, budgets: list[int], labels: dict[str, str]) -> list[str]:
    """Mean regret ± standard error, mean rank and the ratio to Optuna's TPE per budget, for one group."""
    refs = [r for r in REFERENCES if r in sc.samplers]
    header = (["sampler"] + [f"regret@{b}" for b in budgets] + [f"rank@{b}" for b in budgets]
              + [f"vs {ref} @{b}" for ref in refs for b in budgets])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in sc.samplers:
        cells = [_pm(sc.group_mean(sc.regret, g, b, s), sc.group_se(g, b, s)) for b in budgets]
        cells += [_fmt(sc.group_mean(sc.rank, g, b, s), 2) for b in budgets]
        for ref in refs:
            for b in budgets:
                v = sc.versus(g, b, s, ref) if s != ref else None
                cells.append("-" if v is None else f"{v[0]:.2f}x ({v[1]:+.3f} ± {v[2]:.3f}, {verdict(v[1], v[2])})")
        lines.append(f"| {labels.get(s, s)} | " + " | ".join(cells) + " |")
    return lines


def render(data: dict[str, Any], *, problems: list[str], samplers: list[str], seeds: int, budgets: tuple[int, ...],
           missing: dict[str, str], per_problem: bool = False, splits: dict[str, str] | None = None) -> str:
    top = max(b for b in budgets)
    dupes = same_as_auto(data, problems, samplers, seeds, top)
    samplers = [s for s in samplers if s not in dupes]
    sc = Scores(data, problems, samplers, seeds, budgets, splits)
    bs = sc.budgets_with_data()
    if not bs or not samplers:
        return "(no results to report yet)"
    ran = auto_ran(data, problems, seeds, max(bs))
    labels = {s: _label(s, ran) for s in samplers}
    lines = []
    if dupes:
        lines += [(f"Shown once: {', '.join(f'`{d}`' for d in dupes)} made the same runs as `{AUTO}`, which ran "
                  f"{'/'.join(ran) or 'it'} here (the `{AUTO}` row; ranks count it once)."), ""]
    split_groups = [g for g in sc.groups if g.endswith(" split")]
    if split_groups:  # per split, never pooled: the tuning split's numbers are not results
        ref = " and ".join(f"`{r}`" for r in REFERENCES if r in samplers)
        for g in sorted(split_groups, key=lambda g: "tuning" in g):  # the reporting split first: the headline
            n_prob = sum(1 for p in sc.problems if sc.group_of[p] == g)
            by_group = {s: _label(s, auto_ran(data, [p for p in sc.problems if sc.group_of[p] == g], seeds, max(bs)))
                        for s in samplers}
            lines += [f"### {g} ({n_prob} problems x {seeds} seeds)", "",
                      ("Mean normalised regret ± standard error over problems x seeds; rank among the samplers shown; "
                       f"ratio of mean regrets to {ref} with the paired difference ± its standard error "
                       "(\"beats\"/\"behind\" only where the difference exceeds it, else \"level\")."
                       if ref else "Mean normalised regret ± standard error over problems x seeds."), ""]
            lines += split_table(sc, g, bs, by_group) + [""]
        if len(split_groups) == len(sc.groups):
            lines += ["### Time outside the objective (ms per trial, mean over the first B trials)", ""]
            lines += _table(["sampler"] + [f"B={b}" for b in bs], [[sc.overall_ms(b, s) for b in bs] for s in samplers],
                            [labels[s] for s in samplers], [2] * len(bs))
            if missing:
                lines += ["", "Not in this run: " + "; ".join(f"`{k}` ({v})" for k, v in missing.items()) + "."]
            return "\n".join(lines + _per_problem(sc, bs, samplers) if per_problem else lines)
        sc.groups = [g for g in sc.groups if g not in split_groups]  # the rest is pooled without the splits
    lines += [f"### Overall (mean of the group means: {', '.join(sc.groups)})", ""]
    lines += _scores_table(sc, bs, None)
    if 200 in bs and any(sc.group_mean(sc.regret, g, 200, s) is None for g in sc.groups for s in samplers):
        lines += ["", "Budget 200 covers only the problems that run to 200 trials (not the scikit-learn ones)."]
    for g in sc.groups if len(sc.groups) > 1 else []:  # one group: the overall table is that group's
        n_prob = sum(1 for p in sc.problems if sc.group_of[p] == g)
        lines += ["", f"### {g} ({n_prob} problems x {seeds} seeds; {sc.cells[(g, bs[0])]} complete cells at {bs[0]})", ""]
        lines += _scores_table(sc, bs, g)
    lines += ["", "### Time outside the objective (ms per trial, mean over the first B trials)", ""]
    lines += _table(["sampler"] + [f"B={b}" for b in bs], [[sc.overall_ms(b, s) for b in bs] for s in samplers],
                    samplers, [2] * len(bs))
    lines += ["", "### Targets", ""] + targets(sc, bs)
    if missing:
        lines += ["", "Not in this run: " + "; ".join(f"`{k}` ({v})" for k, v in missing.items()) + "."]
    if per_problem:
        lines += _per_problem(sc, bs, samplers)
    return "\n".join(lines)


def _per_problem(sc: Scores, bs: list[int], samplers: list[str]) -> list[str]:
    lines: list[str] = []
    for p in sc.problems:
        f_opt, f_ref, known = sc.norm[p]
        lines += ["", f"#### {p}: f_opt {f_opt:.6g} ({'known' if known else 'best seen'}), f_ref {f_ref:.6g}", ""]
        rows = [[_mean(sc.per_problem.get((p, b, s))) for b in bs] for s in samplers]
        lines += _table(["sampler"] + [f"regret@{b}" for b in bs], rows, samplers, [3] * len(bs))
    return lines


def _mean(xs: list[float] | None) -> float | None:
    return sum(xs) / len(xs) if xs else None


METHOD = """\
Each sampler optimises each problem from a fresh in-memory study through ask/tell, once per seed, to the problem's
largest budget; the scores at 25, 50, 100 and 200 trials are read from that one run. Problems (all minimised,
`benchmarks/bench_problems.py`): **synthetic** Branin, Hartmann-6, Ackley-10 (box shifted to [-15, 30]^10 so the
optimum is off-centre), Rosenbrock-10, Styblinski-Tang-8; **bbob** COCO's f1 sphere, f8 Rosenbrock, f15 rotated
Rastrigin and f21 Gallagher-101 in 2, 5 and 10 dimensions (instance 1); **sklearn** 20 problems, 4 model families
with categorical and conditional parameters (SVC/SVR with kernel-dependent gamma/degree/coef0; a model choice among
logistic regression or ridge, random forest and kNN, each with its own parameters; HistGradientBoosting with a
conditional depth limit; an MLP with solver-dependent parameters) on the 5 data sets scikit-learn ships (iris, wine,
breast cancer, 500 digits, diabetes), 1 - 3-fold CV accuracy (R^2 for diabetes), up to 100 trials, split into a
TUNING and a REPORTING half declared in `benchmarks/sklearn_problems.py` before any run (defaults are chosen on
TUNING; the headline is REPORTING's; the two are never pooled); **yahpo** YAHPO Gym surrogates at full fidelity:
rbv2_xgboost (booster-conditional space), rbv2_rpart and iaml_glmnet, 1 - accuracy (mmce for glmnet) clipped to the
range the real runs reached, on OpenML tasks chosen by a rule on YAHPO's statistics file (believable ranges: tasks
such as 1461 or 1590 predict 100% accuracy) and split into TUNING and REPORTING halves in
`benchmarks/yahpo_problems.py` before any run (`python benchmarks/samplers.py --check-yahpo-split`).

- **Normalised regret** = (best - f_opt) / (f_ref - f_opt). f_ref is the median value of random configurations
  (1,000 for the cheap problems, 100 for the scikit-learn ones; hyperdial's Random sampler with a fixed seed),
  so 1 means "as good as a typical random configuration" and 0 the optimum. f_opt is the known optimum for the
  synthetic and BBOB problems and the best value seen in the whole results file for the others (so those numbers
  move a little as runs are added). Mean over problems x seeds in a group; "overall" is the mean of the group means.
- **Rank**: samplers ranked by their best value on each problem x seed x budget (1 = best, ties share), averaged
  the same way.
- **Time**: ms per trial spent outside the objective (ask + `suggest_*` + tell: sampler plus framework), mean over
  each run's first B trials. Each run is single-threaded; two runs at a time on the machine below, which other
  work shares, so timings are noisy.
"""


def write_docs(path: Path, data: dict[str, Any], *, text: str, command: str, note: str, problems: list[str],
               samplers: list[str], seeds: int) -> None:
    """Replace (or append) the 'Sampler quality' section of docs/benchmarks.md; other sections are left as they are."""
    m = data.get("machine", {})
    v = m.get("versions", {})
    machine = (f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory', '?')}, {m.get('os', '?')}, "
               f"Python {m.get('python', '?')}; hyperdial {v.get('hyperdial')}, Optuna {v.get('optuna')}, "
               f"numpy {v.get('numpy')}, torch {v.get('torch')}, scikit-learn {v.get('sklearn')}, "
               f"coco-experiment {v.get('cocoex')}")
    loads = sorted(r["loadavg"][0] for r in data["runs"].values()
                   if r.get("loadavg") and r.get("problem") in problems and r.get("sampler") in samplers)
    if loads:
        machine += (f"; 1-minute load average while the runs finished: median {loads[len(loads) // 2]:.1f} "
                    f"(other work shared the cores)")
    body = [SECTION, ""]
    if note:
        body += [note, ""]
    body += [
        METHOD,
        ("Reproduce this table (results in `benchmarks/results/`, resumable; `--report-only --write-docs` rewrites "
         "this section from them):"),
        "",
        "```bash",
        "pip install -e '.[bench]' && pip install coco-experiment torch && bash benchmarks/setup_yahpo.sh",
        command,
        "```",
        "",
        (f"Machine: {machine}. Generated {_dt.date.today().isoformat()}. "
         f"Samplers: {', '.join(f'`{s}`' for s in samplers)}; {seeds} seeds; problems: {', '.join(problems)}."),
        "",
        text,
        "",
    ]
    section = "\n".join(body)
    # re-read right before writing: another section of this file may have changed meanwhile
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "\n".join(lines[end:])
        new = "\n".join(lines[:start]) + ("\n" if start else "") + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n")
