"""Low-pass filtering of shock accelerations by SAE J211-1 channel frequency class (CFC).

A CFC filter is a two-pole Butterworth low-pass run forwards and backwards (no phase shift, four
poles in effect), designed at 2.0775 x CFC with the bilinear transform's pre-warping, which puts
the -3 dB point of the pair at 5/3 x CFC (CFC 60: 100 Hz, 180: 300 Hz, 600: 1000 Hz, 1000:
1650 Hz). SAE J211-1 (2014) Appendix C gives the recursive form; scipy's ``butter`` with ``fs``
builds the same pre-warped section.
"""

from __future__ import annotations

import numpy as np

#: Design frequency of each pass relative to the CFC (SAE J211-1 Appendix C).
_DESIGN_PER_CFC = 2.0775


def cfc_filter(signal: np.ndarray, dt_s: float, cfc: float, axis: int = 0) -> np.ndarray:
    """Filter ``signal`` sampled every ``dt_s`` seconds with an SAE J211-1 CFC ``cfc`` filter.

    Parameters
    ----------
    signal : ndarray
        Samples along ``axis``.
    dt_s : float
        Sampling interval, s.
    cfc : float
        Channel frequency class, Hz (60, 180, 600, 1000).
    axis : int
        Time axis.

    Returns
    -------
    ndarray
        The filtered signal, same shape.
    """
    fs = 1.0 / dt_s
    design = _DESIGN_PER_CFC * cfc
    if not 0 < design < fs / 2:
        raise ValueError(f"CFC {cfc} needs a sampling rate above {2 * design:.0f} Hz; got {fs:.0f} Hz")
    from scipy.signal import butter, sosfiltfilt  # 0.8 s to import: only when filtering

    sos = butter(2, design, btype="low", fs=fs, output="sos")
    # The signal starts from rest (free fall): pad with its first value instead of mirroring.
    return sosfiltfilt(sos, np.asarray(signal, float), axis=axis, padtype="constant")
