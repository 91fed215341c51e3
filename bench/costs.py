"""The cost-growth figure every write benchmark prints: time per unit at its largest size over time
per unit at its smallest (1 = linear; the target is under 1.3)."""

from __future__ import annotations


def cost_growth(results: list[dict], size: str) -> float:
    """`results` in order of size, each with `seconds` and the count under `size` (rows, responses)."""
    small, large = results[0], results[-1]
    return (large["seconds"] / large[size]) / (small["seconds"] / small[size])
