"""The metrics a survey declares, as the dashboard pages offer them (one list for every page)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app_pages.labels import shorten


@dataclass(frozen=True)
class MetricChoice:
    """A metric the survey declares: the answer key it is computed from, and how."""

    label: str
    key: str
    metric: str  # nps | csat | ces | mean (by_segment's metrics)
    scale: tuple[int, int]
    short: str = ""  # the axis title and legend name: "NPS", a matrix attribute, or the text shortened

    @property
    def axis_title(self) -> str:
        """A short title for the metric's axis (the full label goes in the tooltip)."""
        return self.short or shorten(self.label, 32)

    @property
    def unit(self) -> str:
        return "%" if self.metric == "csat" else ""

    def format(self, value: float, signed: bool | None = None) -> str:
        """The value as shown: NPS signed, CSAT in percent, means with two decimals."""
        if pd.isna(value):
            return ""
        decimals = 1 if self.metric in ("nps", "csat") else 2
        signed = self.metric == "nps" if signed is None else signed
        return f"{value:{'+' if signed else ''}.{decimals}f}{self.unit}"

    def format_gap(self, value: float) -> str:
        """The size of a difference, unsigned, in its unit (points for NPS and CSAT)."""
        decimals = 1 if self.metric in ("nps", "csat") else 2
        unit = {"nps": " points", "csat": " percentage points"}.get(self.metric, "")
        return f"{abs(value):.{decimals}f}{unit}"


def metric_choices(definition) -> list[MetricChoice]:
    """Every metric the survey declares: NPS, CSAT (top two boxes), CES (mean), and each rating,
    index item or matrix attribute as a mean on its declared scale."""
    language = definition.languages[0]
    found = []
    for question in definition.questions:
        if question.metric is None or question.scale is None:
            continue
        scale = (question.scale.min, question.scale.max)
        text = question.text.get(language) or question.key
        if question.metric in ("nps", "csat", "ces"):
            name = {"nps": "NPS", "csat": "CSAT (top two boxes, %)", "ces": f"Effort, mean {scale[0]}-{scale[1]}"}
            short = {"nps": "NPS", "csat": "CSAT (%)", "ces": "Effort (mean)"}[question.metric]
            found.append(MetricChoice(f"{name[question.metric]}: {text}", question.key, question.metric, scale, short))
        elif question.kind == "matrix":
            for attribute, key in zip(question.attributes, question.answer_keys):
                label = attribute.label.get(language) or attribute.value
                found.append(MetricChoice(f"Mean {scale[0]}-{scale[1]}: {text} {label}", key, "mean", scale,
                                          f"{label} (mean)"))
        else:
            found.append(MetricChoice(f"Mean {scale[0]}-{scale[1]}: {text}", question.key, "mean", scale,
                                      shorten(text, 24) + " (mean)"))
    return found
