"""How TPE sees a search space: each parameter as a coordinate of the unit box, plus a grid cell.

Numbers map to [0, 1] as in `hyperdial.transform` (log scales linear, each
integer/step value owning a cell of the widened range). Discrete numbers and
categoricals also carry a cell index. A `Layout` fixes, per parameter, how the
Parzen estimator models it:

- continuous ("cont"): floats, and grids finer than `TABLE_MAX` cells (evaluated at
  cell centres: the cell width then cancels in l(x) / g(x));
- cell tables ("table"): categoricals and grids of at most `TABLE_MAX` cells, whose
  kernels give each cell an exact probability mass.

Each observation's continuous coordinates and one-hot table cells are also
kept as one row of kernel features: the part of the log density of many
candidates under all kernels that does not change between suggestions, so that
evaluating it is one matrix product (see `parzen.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperdial.space import Categorical, Distribution, Float, Int
from hyperdial.transform import decode, numeric_bounds, round_to_space

TABLE_MAX = 64
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LOG_PRIOR_Z = math.log(math.erf(0.5 / math.sqrt(2.0)))  # N(0.5, 1) mass inside [0, 1]


def special() -> Any:
    from scipy import special as sp  # a core dependency, but `import hyperdial` must stay light

    return sp


def trunc_log_mass(edges: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """log P(cell i | Gaussian at centres[k] with width sigma, truncated to [0, 1]), shape (k, i)."""
    cdf = special().ndtr((edges[None, :] - centres[:, None]) / sigma)
    mass = np.diff(cdf, axis=1)
    return np.log(np.maximum(mass, 1e-300)) - np.log(cdf[:, -1:] - cdf[:, :1])


@dataclass(frozen=True)
class Dim:
    """One parameter: its distribution, grid and model."""

    name: str
    dist: Distribution
    categorical: bool
    cells: int  # grid size (choices, or values of a discrete number); 0 if continuous
    table: bool  # modelled by an exact cell table
    edges: np.ndarray | None  # cell edges in the box (numeric tables only)
    centres: np.ndarray | None  # cell centres in the box (numeric tables only)
    lo: float  # the (log) coordinate that maps to 0 ...
    hi: float  # ... and to 1


def _grid_size(dist: Float | Int) -> int:
    if isinstance(dist, Int):
        return (dist.high - dist.low) // dist.step + 1
    if dist.step is not None:
        return int(round((dist.high - dist.low) / dist.step)) + 1
    return 0


def _dim(name: str, dist: Distribution) -> Dim:
    if isinstance(dist, Categorical):
        return Dim(name, dist, True, len(dist.choices), True, None, None, 0.0, 1.0)
    assert isinstance(dist, (Float, Int))
    lo, hi = numeric_bounds(dist)
    k = _grid_size(dist)
    if not 0 < k <= TABLE_MAX:
        return Dim(name, dist, False, k, False, None, None, lo, hi)
    if dist.log:  # a log Int (step 1): cell [v - 1/2, v + 1/2] on the log scale
        v = dist.low + np.arange(k, dtype=float)
        edges = (np.log(np.append(v - 0.5, v[-1] + 0.5)) - lo) / (hi - lo)
        centres = (np.log(v) - lo) / (hi - lo)
    else:
        edges = np.linspace(0.0, 1.0, k + 1)
        centres = (np.arange(k) + 0.5) / k
    edges[0], edges[-1] = 0.0, 1.0
    return Dim(name, dist, False, k, True, edges, centres, lo, hi)


class Layout:
    """The modelled parameters of a space, in order, and the column groups the estimator uses."""

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.dims = [_dim(name, dist) for name, dist in space.items()]
        self.numeric = np.array([j for j, d in enumerate(self.dims) if not d.categorical], dtype=np.int64)
        self.cont = np.array([j for j, d in enumerate(self.dims) if not d.table], dtype=np.int64)
        self.tables = [j for j, d in enumerate(self.dims) if d.table]
        self.discrete = [j for j, d in enumerate(self.dims) if d.cells and not d.categorical]
        self.categorical = [j for j, d in enumerate(self.dims) if d.categorical]
        self.table_offsets = [int(o) for o in np.cumsum([0] + [self.dims[j].cells for j in self.tables])[:-1]]
        self.n_features = sum(self.dims[j].cells for j in self.tables)
        self._cell_tables: dict[int, dict[float, np.ndarray]] = {}
        # The prior kernel N(0.5, 1) (uniform for categoricals) never changes: its log mass per cell.
        self.prior_tables = {
            j: (
                np.full(self.dims[j].cells, -math.log(self.dims[j].cells))
                if self.dims[j].categorical
                else trunc_log_mass(self.dims[j].edges, np.array([0.5]), 1.0)[0]  # type: ignore[arg-type]
            )
            for j in self.tables
        }

    def encode(self, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """One observation as (box coordinates, cell indices); its values must lie in the space."""
        u = np.empty(len(self.dims))
        cell = np.full(len(self.dims), -1, dtype=np.int64)
        for j, d in enumerate(self.dims):
            value = params[d.name]
            if isinstance(d.dist, Categorical):
                cell[j] = d.dist.index(value)
                u[j] = (cell[j] + 0.5) / d.cells
                continue
            assert isinstance(d.dist, (Float, Int))
            x = math.log(value) if d.dist.log else float(value)
            u[j] = 0.5 if d.hi == d.lo else (x - d.lo) / (d.hi - d.lo)
            if d.cells:
                cell[j] = int(round((float(value) - d.dist.low) / (d.dist.step or 1)))
        return u, cell

    def prior_log_pdf(self, x: np.ndarray, xc: np.ndarray) -> np.ndarray:
        """Log density of the prior kernel (N(0.5, 1) truncated to the box, uniform for categoricals) at x."""
        out = np.zeros(len(x))
        if len(self.cont):
            out -= (0.5 * (x[:, self.cont] - 0.5) ** 2 + LOG_SQRT_2PI + _LOG_PRIOR_Z).sum(axis=1)
        for j in self.tables:
            out += self.prior_tables[j][xc[:, j]]
        return out

    def cell_table(self, j: int, width: float) -> np.ndarray:
        """Table dim j's kernel table T[kernel cell, candidate cell] (log mass), remembered for a few widths.

        Numbers: `trunc_log_mass` at bandwidth `width`; categoricals: Aitchison-Aitken with
        `width` = b, 1 - b on the observed choice and b / (K - 1) on each other one.
        """
        cache = self._cell_tables.setdefault(j, {})
        table = cache.get(width)
        if table is None:
            d = self.dims[j]
            if d.categorical:
                k = d.cells
                table = np.full((k, k), math.log(width / (k - 1)) if k > 1 else 0.0)
                np.fill_diagonal(table, math.log1p(-width))
            else:
                assert d.edges is not None and d.centres is not None
                table = trunc_log_mass(d.edges, d.centres, width)
            if len(cache) >= 8:
                del cache[next(iter(cache))]
            cache[width] = table
            table.flags.writeable = False
        return table

    def features(self, u: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Kernel features of observations: continuous coordinates, then one-hot rows of the table
        dims' cells. They do not depend on the bandwidths, so the sampler caches them per trial."""
        out = np.zeros((len(cells), len(self.cont) + self.n_features))
        out[:, : len(self.cont)] = u[:, self.cont]
        rows = np.arange(len(cells))
        for j, offset in zip(self.tables, self.table_offsets):
            out[rows, len(self.cont) + offset + cells[:, j]] = 1.0
        return out

    def snap(self, j: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Box coordinates of discrete dim j -> (their cell centres, cell indices)."""
        d = self.dims[j]
        if d.table:
            assert d.edges is not None and d.centres is not None
            cell = np.minimum(np.maximum(np.searchsorted(d.edges, u, side="right") - 1, 0), d.cells - 1)
            return d.centres[cell], cell
        dist = d.dist
        assert isinstance(dist, (Float, Int))
        if dist.log:  # a log Int with many values: round on the native scale
            v = np.minimum(np.maximum(np.rint(np.exp(d.lo + u * (d.hi - d.lo))), dist.low), dist.high)
            return (np.log(v) - d.lo) / (d.hi - d.lo), (v - dist.low).astype(np.int64)
        cell = np.minimum(np.maximum(np.floor(u * d.cells), 0), d.cells - 1).astype(np.int64)
        return (cell + 0.5) / d.cells, cell

    def value(self, j: int, u: float, cell: int) -> Any:
        """The parameter value at box coordinate u (cell index for discrete parameters)."""
        d = self.dims[j]
        dist = d.dist
        if isinstance(dist, Categorical):
            return dist.choices[cell]
        if not d.cells:
            return decode(dist, u)
        if isinstance(dist, Int):
            return int(dist.low + cell * dist.step)
        assert isinstance(dist, Float) and dist.step is not None
        return round_to_space(dist, dist.low + cell * dist.step)
