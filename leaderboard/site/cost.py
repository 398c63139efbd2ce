"""Defaults for cost and carbon per million images, and the arithmetic the browser repeats.

The site computes these figures in the browser (``assets/lb-cost.js``) from measured J/image,
so a visitor can change grid intensity, PUE and price. The defaults below are written into the
site once (``assets/cost-defaults.js``) and stated with their sources on the Methodology page;
this module is the one place they are set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

JOULES_PER_KWH = 3.6e6
IMAGES = 1_000_000  # figures are per million images


@dataclass(frozen=True)
class CostDefault:
    """One adjustable assumption with where its value comes from."""

    key: str
    label: str
    value: float
    unit: str
    source: str


GRID = CostDefault(
    "grid_g_per_kwh", "Grid carbon intensity", 480.0, "g CO₂e/kWh",
    "world-average carbon intensity of electricity generation in 2023, Ember, "
    "*Global Electricity Review 2024* (480 gCO₂/kWh, down from 486 in 2022)")
PUE = CostDefault(
    "pue", "Power usage effectiveness (PUE)", 1.56, "×",
    "average annual PUE that operators reported for their largest data centre, Uptime "
    "Institute, *Global Data Center Survey 2024* (1.56; 1.58 in the 2023 survey)")
PRICE = CostDefault(
    "price_per_kwh", "Electricity price", 0.13, "USD/kWh",
    "average US commercial-sector retail electricity price in 2023, US Energy Information "
    "Administration, *Electric Power Annual 2023* (12.59 ¢/kWh, rounded to 0.13 USD)")
CURRENCY = "USD"
DEFAULTS = (GRID, PUE, PRICE)


@dataclass(frozen=True)
class PerMillion:
    """Energy, carbon and cost of one million images."""

    kwh: float
    co2_kg: float
    money: float


def per_million(energy_j: float, grid_g_per_kwh: float = GRID.value, pue: float = PUE.value,
                price_per_kwh: float = PRICE.value) -> PerMillion:
    """What a million images cost at ``energy_j`` per image (the formula lb-cost.js uses).

    The measured energy is the GPU's; PUE scales it to the facility's draw.
    """
    kwh = energy_j * IMAGES * pue / JOULES_PER_KWH
    return PerMillion(kwh, kwh * grid_g_per_kwh / 1000.0, kwh * price_per_kwh)


def defaults_script() -> str:
    """``assets/cost-defaults.js``: the defaults as ``window.LB_COST_DEFAULTS``."""
    payload = {d.key: d.value for d in DEFAULTS} | {"currency": CURRENCY}
    return f"window.LB_COST_DEFAULTS={json.dumps(payload, sort_keys=True)};\n"
