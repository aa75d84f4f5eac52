"""SAE J211-1 CFC filter: -3 dB at 5/3 CFC, no phase shift, short pulses kept."""

import numpy as np
import pytest

from packsim.filters import cfc_filter

DT = 1e-5


@pytest.mark.parametrize("cfc", [60, 180, 600, 1000])
def test_minus_3_db_at_five_thirds_of_the_class(cfc):
    t = np.arange(0, 20 / (cfc * 5 / 3) + 0.05, DT)
    x = np.sin(2 * np.pi * cfc * 5 / 3 * t)
    y = cfc_filter(x, DT, cfc)
    middle = slice(len(t) // 4, 3 * len(t) // 4)
    assert np.abs(y[middle]).max() == pytest.approx(2**-0.5, rel=0.01)


@pytest.mark.parametrize("duration_s, kept", [(2e-3, 0.999), (1e-3, 0.95)])
def test_half_sine_keeps_its_peak_and_its_timing_at_cfc_600(duration_s, kept):
    t = np.arange(0, 0.05, DT)
    x = np.where((t > 0.01) & (t < 0.01 + duration_s), np.sin(np.pi * (t - 0.01) / duration_s), 0.0)
    y = cfc_filter(x, DT, 600)
    assert y.max() >= kept
    assert t[np.argmax(y)] == pytest.approx(0.01 + duration_s / 2, abs=DT)


def test_sampling_too_slow_for_the_class_is_refused():
    with pytest.raises(ValueError, match="sampling rate"):
        cfc_filter(np.zeros(100), 1e-3, 600)
