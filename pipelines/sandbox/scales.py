"""How big each generated firm is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Target sizes of a generated firm (bills and activities are approximate)."""

    attorneys: int
    staff: int
    companies: int
    people: int
    matters: int
    bills: int
    activities_per_bill: float
    unbilled_activities: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(4, 2, 6, 18, 16, 30, 4.0, 25),
    "small": Scale(18, 10, 250, 700, 900, 2000, 9.0, 2500),
    "large": Scale(60, 40, 2500, 7000, 9000, 12000, 9.5, 15000),
    # ten times `large` (about 3.6M records): shows a full sync's cost grows linearly
    # with the firm and its memory does not (bench/sync_scaling.py)
    "xlarge": Scale(600, 400, 25000, 70000, 90000, 120000, 9.5, 150000),
}
