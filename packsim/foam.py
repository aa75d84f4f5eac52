"""Uniaxial crushable-foam law: elastic, plateau, densification; hysteretic unloading.

Nominal strain ``eps`` is positive in compression, nominal stress likewise. On loading

    sigma_L(eps) = E eps below the yield strain eps_y = sigma_pl / E, then
                   sigma_pl D(eps) + p0 (g(eps) - g(eps_y)), with
                   D = 1 below the densification onset eps_d,
                   D = 1 + (eps - eps_d) / (eps_lock - eps) above it,

so the stress rises without bound as the cells lock up at ``eps_lock``. The second term is the gas
sealed in the cells of a closed-cell foam, compressed isothermally from the pressure p0 as the
cell walls crush (Gibson and Ashby, Cellular Solids, 1997: g(eps) = eps / (1 - eps - R), R the
relative density); it makes the plateau of a soft closed-cell foam (PE) rise with strain, as its
data sheets show. It is counted from the yield strain, so that the elastic line ends where the
plateau begins (and elements still on it keep the FE kernel's linear shortcut). Unloading from
the largest strain reached, ``eps_max``, depends on the foam: a non-resilient foam (EPS) unloads
elastically and keeps its crush; a resilient one (EPP, PE, PU) returns to zero strain along
sigma_L(eps) (eps / eps_max)^p. Both dissipate energy, as real foams do in an impact, and both
stay under the loading curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numba import njit, vectorize

from ._cited import load_cited_entries, load_packaged
from .materials import Material, get_material

# The law as scalar functions of (strain, parameters), compiled: the FE kernel calls them per
# principal strain, and FoamLaw's array methods are ufuncs of the same code. Parameters are the
# floats of FoamLaw.parameters, in that order; "numpy" error model: x / 0 is inf, not an error.
_jit = njit(cache=True, error_model="numpy")


@_jit
def _gas(eps, r):
    """g(eps) = eps / (1 - eps - R): the gas term per unit initial pressure."""
    return eps / (1.0 - eps - r)


@_jit
def _loading_stress(eps, e, plateau, ed, el, p0, r):
    eps = max(float(eps), 0.0)
    if eps < plateau / e or not np.isfinite(plateau):
        return e * eps
    if eps >= el:
        return np.inf
    gas = p0 * (_gas(eps, r) - _gas(plateau / e, r)) if p0 > 0.0 else 0.0
    if eps > ed:
        return plateau * (1.0 + (eps - ed) / (el - eps)) + gas
    return plateau + gas


@_jit
def _loading_tangent(eps, e, plateau, ed, el, p0, r):
    eps = max(float(eps), 0.0)
    if eps < plateau / e or not np.isfinite(plateau):
        return e
    gas = p0 * (1.0 - r) / (1.0 - eps - r) ** 2 if p0 > 0.0 else 0.0
    if eps > ed:
        return plateau * (el - ed) / (el - eps) ** 2 + gas
    return gas


@_jit
def _gas_primitive(x, r):
    """A primitive of g(x) = x / (1 - x - R)."""
    return -x - (1.0 - r) * np.log(1.0 - r - x)


@_jit
def _loading_energy(eps, e, plateau, ed, el, p0, r):
    """Integral of sigma_L over [0, eps], in closed form."""
    eps = max(float(eps), 0.0)
    if not np.isfinite(plateau):
        return 0.5 * e * (eps * eps)
    if eps >= el:
        return np.inf
    ey = plateau / e
    if eps <= ey:
        return 0.5 * e * (eps * eps)
    w = 0.5 * plateau * ey + plateau * (eps - ey)
    x = min(eps, el - 1e-15)
    if eps > ed:
        w += plateau * (-(x - ed) - (el - ed) * np.log((el - x) / (el - ed)))
    if p0 > 0.0:
        w += p0 * (_gas_primitive(x, r) - _gas_primitive(ey, r) - ey / (1.0 - ey - r) * (x - ey))
    return w


@_jit
def _unloading_stress(eps, eps_max, e, plateau, ed, el, p0, r, resilient, exponent, dissipative):
    if not dissipative:
        return _loading_stress(eps, e, plateau, ed, el, p0, r)
    if resilient:
        ratio = min(max(eps / eps_max, 0.0), 1.0) if eps_max > 0 else 0.0
        return _loading_stress(eps, e, plateau, ed, el, p0, r) * ratio**exponent
    # Densified foam is stiffer than virgin foam: unloading never softer than the loading
    # tangent, so the unloading line stays under the (convex) loading curve.
    modulus = max(e, _loading_tangent(eps_max, e, plateau, ed, el, p0, r))
    return max(0.0, _loading_stress(eps_max, e, plateau, ed, el, p0, r) - modulus * (eps_max - eps))


@_jit
def _stress(eps, eps_max, e, plateau, ed, el, p0, r, resilient, exponent, dissipative):
    if eps >= eps_max:
        return _loading_stress(eps, e, plateau, ed, el, p0, r)
    return _unloading_stress(eps, eps_max, e, plateau, ed, el, p0, r, resilient, exponent,
                             dissipative)


def _ufunc(function):
    return vectorize(cache=True)(function.py_func)


@_jit
def _resilient_segment(lo, hi, m, x, w, law):
    """Gauss-Legendre integral (x, w on [-1, 1]) of the unloading stress from ``m`` over
    [lo, hi]; ``law`` = FoamLaw.parameters."""
    if hi <= lo:
        return 0.0
    e, plateau, ed, el, p0, r, resilient, exponent, dissipative = law
    half = 0.5 * (hi - lo)
    total = 0.0
    for k in range(x.size):
        s = lo + half * (x[k] + 1.0)
        total += w[k] * _unloading_stress(s, m, e, plateau, ed, el, p0, r, resilient, exponent,
                                          dissipative)
    return half * total


@_jit
def _resilient_energy(top, m, x, w, law):
    """Integral over [0, top] of the resilient unloading stress sigma_L(s) (s / m)^p from the
    largest strain m (``law`` = FoamLaw.parameters): in closed form on the elastic line and on a
    flat plateau, by the Gauss-Legendre rule where the stress curves (densification, and the
    plateau of a gas-filled foam), one kink-free segment at a time. A rule over the whole range,
    broadcast as numpy ufuncs, cost 3.4 ms per energy sample of a PE insert and straddled the
    kink at the yield strain."""
    e, plateau, ed, _, p0, _, _, p, _ = law
    if top <= 0.0 or m <= 0.0:
        return 0.0
    yield_strain = plateau / e if np.isfinite(plateau) else np.inf
    a = min(top, yield_strain)
    total = e * a ** (p + 2.0) / (p + 2.0) * m ** -p
    if top > yield_strain:
        b = min(top, ed)
        if p0 > 0.0:
            total += _resilient_segment(yield_strain, b, m, x, w, law)
        else:
            total += plateau * (b ** (p + 1.0) - yield_strain ** (p + 1.0)) / (p + 1.0) * m ** -p
        total += _resilient_segment(max(ed, yield_strain), top, m, x, w, law)
    return total


@_jit
def _stored_energy(eps, eps_max, x, w, law):
    """FoamLaw.stored_energy of one strain: the energy density the foam gives back if unloaded
    from ``eps`` (on the branch from ``eps_max``) to zero stress; x, w a Gauss-Legendre rule."""
    e, plateau, ed, el, p0, r, resilient, exponent, dissipative = law
    eps = max(eps, 0.0)
    eps_max = max(eps_max, eps)
    if not dissipative:
        return _loading_energy(eps, e, plateau, ed, el, p0, r)
    if resilient:
        return _resilient_energy(eps, eps_max, x, w, law)
    sigma = _stress(eps, eps_max, e, plateau, ed, el, p0, r, resilient, exponent, dissipative)
    return 0.5 * sigma**2 / max(e, _loading_tangent(eps_max, e, plateau, ed, el, p0, r))


@_jit
def _stored_energies(eps, eps_max, x, w, law):
    """:func:`_stored_energy` of every entry of the flat arrays."""
    out = np.empty(eps.size)
    for i in range(eps.size):
        out[i] = _stored_energy(eps[i], eps_max[i], x, w, law)
    return out


_loading_stress_ufunc = _ufunc(_loading_stress)
_loading_energy_ufunc = _ufunc(_loading_energy)
_loading_tangent_ufunc = _ufunc(_loading_tangent)
_unloading_stress_ufunc = _ufunc(_unloading_stress)
_stress_ufunc = _ufunc(_stress)


@cache
def _legendre(n: int = 96) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


@cache
def _unloading_exponent() -> float:
    entry = load_packaged("fe.toml", lambda p: load_cited_entries(p, "model"))["foam_unloading"]
    return float(entry["exponent"].value)


@dataclass(frozen=True)
class FoamLaw:
    """Parameters of the foam law (SI units; strains nominal, compression positive).

    Attributes
    ----------
    youngs_modulus_pa, plateau_stress_pa : float
        Initial modulus and plateau stress, Pa (``inf`` plateau: a linear-elastic pad).
    densification_strain, lockup_strain : float
        Onset of densification and the strain where the stress becomes unbounded.
    gas_pressure_pa : float
        Initial pressure p0 of the gas sealed in the cells of a closed-cell foam, Pa; 0 leaves
        the plateau flat.
    relative_density : float
        Foam density over that of its solid, R, in the gas term (-).
    resilient : bool
        Recovers after unloading (otherwise keeps the crush).
    unloading_exponent : float
        Exponent p of the resilient unloading curve.
    dissipative : bool
        ``False`` makes unloading retrace loading (no energy lost): for verification.
    """

    youngs_modulus_pa: float
    plateau_stress_pa: float = float("inf")
    densification_strain: float = 1.0
    lockup_strain: float = 1.0
    gas_pressure_pa: float = 0.0
    relative_density: float = 0.0
    resilient: bool = True
    unloading_exponent: float = 4.0
    dissipative: bool = True

    def __post_init__(self) -> None:
        if not self.youngs_modulus_pa > 0 or not self.plateau_stress_pa > 0:
            raise ValueError("foam modulus and plateau stress must be > 0")
        if not np.isfinite(self.plateau_stress_pa):
            return  # a linear pad
        if not 0 < self.densification_strain < self.lockup_strain <= 1.0:
            raise ValueError("expected 0 < densification_strain < lockup_strain <= 1")
        if self.yield_strain >= self.densification_strain:
            raise ValueError("the plateau must begin (sigma_pl / E) before densification")
        if self.gas_pressure_pa < 0 or not 0 <= self.relative_density < 1 - self.lockup_strain:
            raise ValueError("expected gas pressure >= 0 and 0 <= relative density < "
                             "1 - lockup_strain (the cells lock up before the gas is gone)")

    @classmethod
    def of(cls, material: str | Material | FoamLaw, dissipative: bool = True) -> FoamLaw:
        """The law of a library foam (by id), of a :class:`Material`, or ``material`` itself."""
        if isinstance(material, FoamLaw):
            return material
        m = get_material(material) if isinstance(material, str) else material
        if m.kind != "foam":
            raise ValueError(f"material {m.id!r} is a {m.kind}, not a foam")
        gas = m.gas_pressure_pa or 0.0
        return cls(
            youngs_modulus_pa=m.youngs_modulus_pa,
            plateau_stress_pa=m.plateau_stress_pa,
            densification_strain=m.densification_strain,
            lockup_strain=m.lockup_strain,
            gas_pressure_pa=gas,
            relative_density=m.density_kg_m3 / m.solid_density_kg_m3 if gas else 0.0,
            resilient=bool(m.resilient),
            unloading_exponent=_unloading_exponent(),
            dissipative=dissipative,
        )

    @classmethod
    def board(cls, material: str | Material, dissipative: bool = True) -> FoamLaw:
        """Corrugated board crushing at its edge-crush stress ECT / caliper (data/fe.toml)."""
        m = get_material(material) if isinstance(material, str) else material
        if m.kind != "board":
            raise ValueError(f"material {m.id!r} is a {m.kind}, not a corrugated board")
        entry = load_packaged("fe.toml", lambda p: load_cited_entries(p, "model"))["board_crush"]
        return cls(
            youngs_modulus_pa=m.youngs_modulus_pa,
            plateau_stress_pa=m.ect_n_per_m / m.caliper_m,
            densification_strain=float(entry["densification_strain"].value),
            lockup_strain=float(entry["lockup_strain"].value),
            resilient=False,
            dissipative=dissipative,
        )

    @classmethod
    def linear(cls, youngs_modulus_pa: float) -> FoamLaw:
        """A linear-elastic, lossless pad (for verification against closed forms)."""
        return cls(youngs_modulus_pa=youngs_modulus_pa, dissipative=False)

    @property
    def yield_strain(self) -> float:
        """Strain where the elastic line meets the plateau."""
        return self.plateau_stress_pa / self.youngs_modulus_pa

    @property
    def parameters(self) -> tuple[float, ...]:
        """(E, plateau, eps_d, eps_lock, p0, R, resilient, exponent, dissipative) as floats: the
        arguments of the compiled law after the strains."""
        return (float(self.youngs_modulus_pa), float(self.plateau_stress_pa),
                float(self.densification_strain), float(self.lockup_strain),
                float(self.gas_pressure_pa), float(self.relative_density),
                float(self.resilient), float(self.unloading_exponent), float(self.dissipative))

    def loading_stress(self, eps: np.ndarray | float) -> np.ndarray:
        """sigma_L(eps), Pa (eps clipped at 0; beyond lock-up the stress is infinite)."""
        return _loading_stress_ufunc(np.asarray(eps, dtype=float), *self.parameters[:6])

    def loading_energy(self, eps: np.ndarray | float) -> np.ndarray:
        """Strain energy density absorbed on loading to ``eps``: integral of sigma_L, J/m^3."""
        # The compiled branches may be evaluated ahead of the test that skips them (an elastic
        # law's log(0 / 0), say), which sets the floating-point flags the ufunc reports.
        with np.errstate(divide="ignore", invalid="ignore"):
            return _loading_energy_ufunc(np.asarray(eps, dtype=float), *self.parameters[:6])

    def loading_tangent(self, eps: np.ndarray | float) -> np.ndarray:
        """d sigma_L / d eps, Pa."""
        return _loading_tangent_ufunc(np.asarray(eps, dtype=float), *self.parameters[:6])

    def _unloading_modulus(self, eps_max: np.ndarray) -> np.ndarray:
        return np.maximum(self.youngs_modulus_pa, self.loading_tangent(eps_max))

    def residual_strain(self, eps_max: float) -> float:
        """Strain at zero stress after unloading from ``eps_max``."""
        if not self.dissipative or self.resilient:
            return 0.0
        peak = float(self.loading_stress(eps_max))
        return max(0.0, float(eps_max - peak / self._unloading_modulus(np.asarray(eps_max))))

    def unloading_stress(self, eps: np.ndarray | float, eps_max: np.ndarray | float) -> np.ndarray:
        """Stress on the unloading branch from ``eps_max`` (eps <= eps_max), Pa.

        Resilient: sigma_L(eps) (eps / eps_max)^p; non-resilient: a straight line down from the
        peak. Both stay at or under the loading curve, so a load cycle never creates energy.
        """
        return _unloading_stress_ufunc(np.asarray(eps, dtype=float),
                                       np.asarray(eps_max, dtype=float), *self.parameters)

    def unloading_energy(self, eps: np.ndarray | float, eps_max: float) -> np.ndarray:
        """Energy density returned on unloading from ``eps_max`` to ``eps``: integral of the
        unloading stress over [eps, eps_max], J/m^3."""
        eps = np.minimum(np.asarray(eps, dtype=float), eps_max)
        if not self.dissipative:
            return self.loading_energy(eps_max) - self.loading_energy(eps)
        if self.resilient:
            x, w = _legendre()
            half = 0.5 * (eps_max - eps)[..., None]
            nodes = eps[..., None] + half * (x + 1.0)
            return np.sum(w * self.unloading_stress(nodes, eps_max), axis=-1) * half[..., 0]
        lo = np.maximum(eps, self.residual_strain(eps_max))
        peak = float(self.loading_stress(eps_max))
        return 0.5 * (peak + self.unloading_stress(lo, eps_max)) * (eps_max - lo)

    def stored_energy(self, eps: np.ndarray, eps_max: np.ndarray, points: int = 16) -> np.ndarray:
        """Elastic energy density the foam would give back if unloaded from ``eps`` (on the
        branch from ``eps_max``) to zero stress, J/m^3; arrays of any shape.

        Non-resilient: the triangle sigma^2 / (2 E_unload) under the straight unloading line;
        resilient: the integral of the unloading curve from 0, exact on the elastic line and the
        plateau, by Gauss-Legendre quadrature (``points``) where the foam densifies.
        """
        eps, eps_max = np.broadcast_arrays(np.asarray(eps, dtype=float),
                                           np.asarray(eps_max, dtype=float))
        x, w = _legendre(points)
        return _stored_energies(eps.ravel(), eps_max.ravel(), x, w,
                                self.parameters).reshape(eps.shape)

    def stress(self, eps: np.ndarray, eps_max: np.ndarray) -> np.ndarray:
        """Stress for strain ``eps`` given the largest strain reached so far (arrays), Pa: the
        loading curve at a new maximum, the unloading branch below it (for FE time stepping)."""
        return _stress_ufunc(np.asarray(eps, dtype=float), np.asarray(eps_max, dtype=float),
                             *self.parameters)
