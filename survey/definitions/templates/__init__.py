"""Survey templates to start a design from: one YAML definition per file in this folder.

Each is a valid definition in English and French with its metrics declared (nps, csat, ces,
index_item) and the roles key-driver analysis reads (overall, driver).

Example:
    >>> names = [t.name for t in templates()]
    >>> "relationship_nps" in names
    True
    >>> template("post_interaction").survey.question("effort").metric
    'ces'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from survey.definitions.definition import Survey, load_yaml

FOLDER = Path(__file__).resolve().parent
# Order and titles shown in the designer; every YAML file of the folder must be listed here.
TITLES = {
    "relationship_nps": "Relationship NPS with driver attributes and a reason question",
    "post_interaction": "Post-interaction CSAT + customer effort (CES)",
    "satisfaction_index": "Three-item satisfaction index (1-10)",
    "service_quality": "Service quality: five dimensions, importance and performance",
    "exit": "Exit survey: reasons for leaving",
    "competitors": "Comparison with competitors",
}


@dataclass(frozen=True)
class Template:
    """A template: its file name (without .yaml), its title, and its definition."""

    name: str
    title: str
    survey: Survey


def template(name: str) -> Template:
    """The template named `name` (a file of this folder); KeyError naming it when there is none."""
    if name not in TITLES:
        raise KeyError(f"no survey template {name!r} (expected one of: {', '.join(TITLES)})")
    return Template(name, TITLES[name], load_yaml(FOLDER / f"{name}.yaml"))


def templates() -> list[Template]:
    """Every template, in the order the designer offers them."""
    return [template(name) for name in TITLES]
