"""`hyperdial plot KIND STUDY --out FILE`: a plot of a study, as PNG/SVG/PDF (matplotlib) or HTML (plotly).

The HTML file carries plotly.js inside it (no CDN), so it opens offline. `--other` names a
second study of the same storage for the ``compare`` kind.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hyperdial.cli.commands import CommandError, open_study
from hyperdial.visualization import KINDS, plot

FORMATS = {".png": "matplotlib", ".svg": "matplotlib", ".pdf": "matplotlib", ".html": "plotly"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("study", metavar="STUDY", help="study name")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="where to write: .png, .svg or .pdf (matplotlib) or .html (interactive, plotly.js inlined)")
    p.add_argument("--params", nargs="+", metavar="NAME", default=None,
                   help="parameters to show (parallel_coordinate, slice, contour, importance; default all)")
    p.add_argument("--objective", type=int, default=0, metavar="I",
                   help="which objective of a multi-objective study (0-based) for parameter plots and compare")
    p.add_argument("--max-points", type=int, default=2000, metavar="N",
                   help="at most this many points per plot; bigger studies are subsampled (default 2000)")
    p.add_argument("--other", metavar="STUDY", default=None, help="the second study, for KIND compare")


def cmd_plot(args: argparse.Namespace, storage: str) -> int:
    if args.kind not in KINDS:
        raise CommandError(f"unknown plot kind {args.kind!r}; choose one of: {', '.join(KINDS)}", code=2)
    out = Path(args.out)
    backend = FORMATS.get(out.suffix.lower())
    if backend is None:
        raise CommandError(f"--out must end in {', '.join(FORMATS)}, got {str(out)!r}", code=2)
    if args.kind == "compare" and args.other is None:
        raise CommandError("plot kind 'compare' needs the second study: --other STUDY", code=2)
    study = open_study(storage, args.study)
    options: dict[str, Any] = {"params": args.params, "max_points": args.max_points}
    if args.kind in ("parallel_coordinate", "slice", "contour", "importance", "compare"):
        options["objective"] = args.objective
    if args.other is not None:
        if args.kind != "compare":
            raise CommandError("--other applies only to plot kind 'compare'", code=2)
        options["other"] = open_study(storage, args.other)
    fig = plot(args.kind, study, backend=backend, **options)
    if backend == "plotly":
        fig.write_html(out, include_plotlyjs=True, full_html=True)
    else:
        fig.savefig(out, dpi=150)
    print(f"wrote {out}")
    return 0
