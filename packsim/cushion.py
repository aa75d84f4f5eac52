"""The fast fidelity of drops: a rigid mass falling onto a foam pad (one degree of freedom).

The mass m rests on a pad of area A and thickness t, so the static stress is sigma_s = m g / A.
Dropped from height h it meets the pad at v0 = sqrt(2 g h) and compresses it to the strain where
the pad has absorbed the kinetic energy plus the work of gravity,

    t W(eps_max) = sigma_s (h + t eps_max),     W = integral of the loading stress,

which is exact for a rate-independent foam (no time stepping needed). The peak deceleration an
accelerometer on the mass reads is G = sigma_L(eps_max) / sigma_s, in g. The pulse duration comes
from quadrature of dt = t d(eps) / v(eps) on loading and on the unloading branch of the law. This
is the model behind ASTM D1596 cushion curves (peak G against static stress).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.special import roots_jacobi

from .foam import FoamLaw
from .materials import Material
from .stacking import G_N

if TYPE_CHECKING:
    from .design import Design


def _brentq(*args, **kwargs) -> float:
    from scipy.optimize import brentq  # 0.6 s to import: only when a drop is solved

    return brentq(*args, **kwargs)


MaterialLike = str | Material | FoamLaw


@dataclass(frozen=True)
class CushionResponse:
    """One drop of a mass onto a foam pad. SI units; accelerations in g.

    Attributes
    ----------
    static_stress_pa, thickness_m, drop_height_m : float
        The inputs.
    impact_velocity_m_s : float
        sqrt(2 g h).
    peak_g : float
        Peak deceleration of the mass, in g (``inf`` if the pad is crushed solid).
    pulse_ms : float
        Duration of the shock pulse (contact until separation, or until the mass turns round if
        it does not leave the pad), ms (``nan`` if the pad is crushed solid).
    max_strain : float
        Largest compressive strain of the pad.
    bottomed_out : bool
        The pad was crushed into densification (max_strain above its onset).
    rebound_velocity_m_s : float
        Upward speed of the mass when it leaves the pad (0 if it stays on it).
    dissipated_fraction : float
        Share of the energy the pad absorbed on loading that it did not give back on unloading.
    """

    static_stress_pa: float
    thickness_m: float
    drop_height_m: float
    impact_velocity_m_s: float
    peak_g: float
    pulse_ms: float
    max_strain: float
    bottomed_out: bool
    rebound_velocity_m_s: float
    dissipated_fraction: float

    def to_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def _check(static_stress_pa: float, thickness_m: float, drop_height_m: float) -> None:
    if not static_stress_pa > 0:
        raise ValueError(f"static_stress_pa must be > 0, got {static_stress_pa}")
    if not thickness_m > 0:
        raise ValueError(f"thickness_m must be > 0, got {thickness_m}")
    if not drop_height_m >= 0:
        raise ValueError(f"drop_height_m must be >= 0, got {drop_height_m}")


def _max_strain(law: FoamLaw, sigma_s: float, t: float, h: float) -> float:
    if not np.isfinite(law.plateau_stress_pa):
        e = law.youngs_modulus_pa
        return (sigma_s + math.sqrt(sigma_s**2 + 2 * e * sigma_s * h / t)) / e

    def surplus(eps: float) -> float:
        return float(t * law.loading_energy(eps) - sigma_s * (h + t * eps))

    hi = law.lockup_strain * (1 - 1e-12)
    if surplus(hi) < 0:
        return math.inf  # the pad cannot absorb the energy: crushed solid
    return _brentq(surplus, 0.0, hi, xtol=1e-14, rtol=1e-12, maxiter=200)


@cache
def _jacobi_rule(turning_lo: bool, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights on [-1, 1] for the weight (1 - x)^-1/2 (1 + x)^beta."""
    return roots_jacobi(n, -0.5, -0.5 if turning_lo else 0.0)


def _travel_time(speed_squared, lo: float, hi: float, t: float, turning_lo: bool) -> float:
    """Time to travel strain from ``lo`` to ``hi`` at speed v(eps) with v(hi) = 0 (and v(lo) = 0
    if ``turning_lo``). The inverse-square-root singularities at the turning points are the
    weight of a Gauss-Jacobi rule, so the rest of the integrand is smooth."""
    if hi - lo <= 0:
        return 0.0
    x, w = _jacobi_rule(turning_lo)
    half = 0.5 * (hi - lo)
    eps = lo + half * (x + 1.0)
    v2 = np.maximum(speed_squared(eps), 1e-300)
    gap = (hi - eps) * ((eps - lo) if turning_lo else 1.0)
    # dt = t d(eps) / v; the weight supplies (1 - x)^-1/2 [(1 + x)^-1/2] in the unit variable.
    scale = math.sqrt(half) if not turning_lo else 1.0
    return float(np.sum(w * t * np.sqrt(gap / v2))) * scale


def drop(material: MaterialLike, static_stress_pa: float, thickness_m: float,
         drop_height_m: float, dissipative: bool = True) -> CushionResponse:
    """Drop a mass with static stress ``static_stress_pa`` onto a pad ``thickness_m`` thick.

    Parameters
    ----------
    material : str, Material or FoamLaw
        A foam of the material library (by id), a :class:`~packsim.Material`, or a law.
    static_stress_pa : float
        Weight of the mass over the loaded pad area, Pa.
    thickness_m : float
        Pad thickness, m.
    drop_height_m : float
        Free-fall height, m.
    dissipative : bool
        ``False`` makes unloading retrace loading (lossless), for verification.

    Returns
    -------
    CushionResponse
    """
    _check(static_stress_pa, thickness_m, drop_height_m)
    law = FoamLaw.of(material, dissipative=dissipative)
    sigma_s, t, h = static_stress_pa, thickness_m, drop_height_m
    g_t = G_N * t
    v0 = math.sqrt(2 * G_N * h)
    eps_max = _max_strain(law, sigma_s, t, h)
    if not math.isfinite(eps_max):
        return CushionResponse(sigma_s, t, h, v0, math.inf, math.nan, law.lockup_strain, True,
                               0.0, 1.0)
    peak_g = float(law.loading_stress(eps_max)) / sigma_s

    def loading_v2(eps):
        return v0**2 + 2 * g_t * eps - 2 * g_t * law.loading_energy(eps) / sigma_s

    def unloading_v2(eps):
        return 2 * g_t * (law.unloading_energy(eps, eps_max) / sigma_s - (eps_max - eps))

    residual = law.residual_strain(eps_max)
    release = unloading_v2(residual)
    if release > 0:
        end, turning = residual, False
    else:
        # The mass stays on the pad and turns round where the unloading speed vanishes.
        end = _brentq(unloading_v2, residual, eps_max * (1 - 1e-12), xtol=1e-15) \
            if unloading_v2(eps_max * (1 - 1e-9)) > 0 else eps_max
        turning = True
    pulse = (_travel_time(loading_v2, 0.0, eps_max, t, turning_lo=False)
             + _travel_time(unloading_v2, end, eps_max, t, turning_lo=turning))
    absorbed = float(law.loading_energy(eps_max))
    returned = float(law.unloading_energy(end, eps_max))
    return CushionResponse(
        static_stress_pa=sigma_s,
        thickness_m=t,
        drop_height_m=h,
        impact_velocity_m_s=v0,
        peak_g=peak_g,
        pulse_ms=pulse * 1e3,
        max_strain=eps_max,
        bottomed_out=bool(np.isfinite(law.plateau_stress_pa) and eps_max > law.densification_strain),
        rebound_velocity_m_s=math.sqrt(max(release, 0.0)),
        dissipated_fraction=1.0 - returned / absorbed if absorbed > 0 else 0.0,
    )


def peak_g(material: MaterialLike, static_stress_pa: float, thickness_m: float,
           drop_height_m: float) -> float:
    """Peak deceleration (g) of a mass dropped on a foam pad; see :func:`drop`."""
    _check(static_stress_pa, thickness_m, drop_height_m)
    law = FoamLaw.of(material)
    eps_max = _max_strain(law, static_stress_pa, thickness_m, drop_height_m)
    if not math.isfinite(eps_max):
        return math.inf
    return float(law.loading_stress(eps_max)) / static_stress_pa


def pulse_ms(material: MaterialLike, static_stress_pa: float, thickness_m: float,
             drop_height_m: float) -> float:
    """Duration of the shock pulse, ms; see :func:`drop`."""
    return drop(material, static_stress_pa, thickness_m, drop_height_m).pulse_ms


def cushion_curve(material: MaterialLike, thickness_m: float, drop_height_m: float,
                  static_stresses_pa: np.ndarray | list[float]) -> np.ndarray:
    """Peak deceleration (g) against static stress, as plotted in ASTM D1596 cushion curves.

    Parameters
    ----------
    material : str, Material or FoamLaw
    thickness_m, drop_height_m : float
    static_stresses_pa : array_like
        Static stresses to evaluate, Pa.

    Returns
    -------
    ndarray
        Peak g at each static stress.
    """
    law = FoamLaw.of(material)
    return np.array([peak_g(law, s, thickness_m, drop_height_m) for s in np.asarray(static_stresses_pa)])


def min_thickness(material: MaterialLike, static_stress_pa: float, drop_height_m: float,
                  g_limit: float, max_thickness_m: float = 2.0) -> float:
    """Thinnest pad that keeps the peak deceleration at or below ``g_limit``, m.

    Peak g never rises as the pad gets thicker, so the answer is found by bisection (to 1 um).

    Raises
    ------
    ValueError
        If even ``max_thickness_m`` of this foam cannot keep the peak under ``g_limit`` (a pad
        always transmits at least 1 g, and a foam's plateau sets a floor for a given stress).
    """
    law = FoamLaw.of(material)

    def ok(t: float) -> bool:
        return peak_g(law, static_stress_pa, t, drop_height_m) <= g_limit

    if not ok(max_thickness_m):
        raise ValueError(
            f"no pad up to {max_thickness_m} m keeps the peak under {g_limit} g at "
            f"{static_stress_pa:.0f} Pa from {drop_height_m} m; choose another foam or static stress")
    lo, hi = 0.0, max_thickness_m
    while hi - lo > 1e-6:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


class Pad(NamedTuple):
    """One pad of an insert as the cushion model sees it."""

    thickness_m: float
    area_m2: float
    mass_kg: float  # what it decelerates: the cells and the insert beyond the pad

    @property
    def static_stress_pa(self) -> float:
        """Weight of the decelerated mass over the pad's area, Pa."""
        return self.mass_kg * G_N / self.area_m2


def design_pads(design: Design) -> dict[int, Pad]:
    """The insert's pads as the cushion model sees them, by face number (ISTA).

    A relieved insert's pad is its ribs: they bear ``bearing_fraction`` of the face and crush
    first, while the solid deck behind them (stressed by that fraction of the ribs' stress) stays
    elastic; the deck's stroke is left out, which errs on the safe side.
    """
    x, y, z = design.layout.insert_dims_m
    ins = design.insert
    insert_kg = sum(p.mass_kg for p in design.parts.values() if p.role in ("insert", "divider"))
    cells_kg = design.cells_mass_kg
    bearing, stroke = ((ins.bearing_fraction, ins.groove_depth_ratio) if ins.relieved else (1.0, 1.0))

    def pad(t: float, area: float, depth: float) -> Pad:
        return Pad(stroke * t, bearing * area, cells_kg + insert_kg * (1 - t / depth))

    bottom, top, side = ins.bottom_thickness_m, ins.top_thickness_m, ins.side_thickness_m
    return {3: pad(bottom, x * y, z), 1: pad(top, x * y, z), 2: pad(side, x * z, y),
            4: pad(side, x * z, y), 5: pad(side, y * z, x), 6: pad(side, y * z, x)}
