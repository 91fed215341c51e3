"""The follow-up rules file: loading, validating (every fault named by its key), and the defaults.

The default file `rules.yaml` ships beside this module and documents every key. An admin points
`SURVEY_FOLLOWUP_SETTINGS` at their own copy; a file that does not validate raises
`FollowUpSettingsError` listing each fault with its key (e.g. `rules.nps_detractor.max_score`),
and nothing is flagged with it.

Example:
    >>> settings = load_settings()
    >>> settings.nps_detractor_max, settings.root_causes[0], settings.due_hours_top
    (6, 'product', 24)
    >>> parse_settings({"rules": {"nps_detractor": {"max_score": "six"}}}, "x.yaml")
    Traceback (most recent call last):
    ...
    survey.followup.settings.FollowUpSettingsError: x.yaml: rules.nps_detractor.max_score: expected a whole number, got 'six'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

DEFAULT_FILE = Path(__file__).with_name("rules.yaml")
ENVIRONMENT_VARIABLE = "SURVEY_FOLLOWUP_SETTINGS"
RULES = ("nps_detractor", "csat_bottom", "ces_bottom", "index_item_low", "score_drop", "negative_comment",
         "silent_dissatisfied")
SCORE_RULES = ("nps_detractor", "csat_bottom", "ces_bottom", "index_item_low")  # "a low score"
RULE_PARAMETERS = {"nps_detractor": "max_score", "csat_bottom": "bottom_points", "ces_bottom": "bottom_points",
                   "index_item_low": "max_score", "score_drop": "min_drop"}
TOP_KEYS = ("rules", "negative_words", "priority", "due", "escalate_after_hours", "reinvite_after_days",
            "root_causes", "region_owners")
PRIORITY_KEYS = ("base", "severe_share", "high_value", "high_value_tiers", "repeat_days", "captive_tenure_years")
DUE_KEYS = ("top_priority_hours", "other_working_days")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class FollowUpSettingsError(ValueError):
    """A rules file that cannot be used; `problems` names each key at fault."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class FollowUpSettings:
    """The validated rules (see rules.yaml for what each means). Hashable: it keys caches."""

    enabled: frozenset[str]
    nps_detractor_max: int
    csat_bottom_points: int
    ces_bottom_points: int
    index_item_max: int
    min_drop: int
    negative_words: tuple[tuple[str, tuple[str, ...]], ...]
    priority_base: int
    severe_share: float
    high_value: float
    high_value_tiers: tuple[str, ...]
    repeat_days: int
    captive_tenure_years: float
    due_hours_top: int
    due_working_days: int
    escalate_after_hours: int
    reinvite_after_days: int
    root_causes: tuple[str, ...]
    region_owners: tuple[tuple[str, str], ...] = field(default=())
    source: str = ""

    def words(self, language: str) -> tuple[str, ...]:
        """The negative words of `language` (English when it has no list)."""
        lists = dict(self.negative_words)
        return lists.get(language) or lists.get((language or "").split("-")[0]) or lists.get("en", ())

    def owner_email(self, region: str | None) -> str | None:
        """The default owner's email for a region, if the file names one."""
        return dict(self.region_owners).get(region or "")


class _Reader:
    """Typed reads from plain data, collecting a problem per bad key instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{self.source}: {key}: {message}")

    def mapping(self, data: Any, key: str, allowed: tuple[str, ...] | None) -> Mapping[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.fail(key, f"expected a mapping, got {type(data).__name__}")
            return {}
        if allowed is not None:
            for unknown in sorted(set(map(str, data)) - set(allowed)):
                self.fail(f"{key}.{unknown}" if key else unknown,
                          f"unknown key (expected one of: {', '.join(allowed)})")
        return data

    def whole(self, data: Mapping[str, Any], key: str, name: str, default: int, minimum: int) -> int:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{key}.{name}" if key else name, f"expected a whole number, got {value!r}")
            return default
        if value < minimum:
            self.fail(f"{key}.{name}" if key else name, f"must be at least {minimum}, got {value}")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, name: str, default: float, minimum: float,
               maximum: float | None = None) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{key}.{name}", f"expected a number, got {value!r}")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.fail(f"{key}.{name}", f"must be {bounds}, got {value}")
            return default
        return float(value)

    def texts(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, "expected a list of non-empty texts")
            return ()
        return tuple(v.strip() for v in value)


def parse_settings(data: Any, source: str = "<settings>") -> FollowUpSettings:
    """Validate plain data (a parsed rules file); missing keys take the documented defaults.

    Raises FollowUpSettingsError listing every fault, each naming its key.
    """
    read = _Reader(source)
    if data is None:
        data = {}
    root = read.mapping(data, "", TOP_KEYS)
    rules = read.mapping(root.get("rules"), "rules", RULES)
    enabled = set()
    parameters: dict[str, int] = {}
    defaults = {"max_score": 6, "bottom_points": 2, "min_drop": 3}
    rule_defaults = {"nps_detractor": 6, "csat_bottom": 2, "ces_bottom": 3, "index_item_low": 4, "score_drop": 3}
    for rule in RULES:
        parameter = RULE_PARAMETERS.get(rule)
        allowed = ("enabled", parameter) if parameter else ("enabled",)
        raw = read.mapping(rules.get(rule, {}), f"rules.{rule}", allowed)
        switch = raw.get("enabled", True)
        if not isinstance(switch, bool):
            read.fail(f"rules.{rule}.enabled", f"expected true or false, got {switch!r}")
        elif switch:
            enabled.add(rule)
        if parameter:
            minimum = 1 if parameter != "max_score" else 0
            parameters[rule] = read.whole(raw, f"rules.{rule}", parameter, rule_defaults.get(rule, defaults[parameter]),
                                          minimum)
    words_raw = read.mapping(root.get("negative_words"), "negative_words", None)
    words = []
    for language, items in words_raw.items():
        found = read.texts(items, f"negative_words.{language}")
        words.append((str(language), tuple(w.casefold() for w in found)))
    priority = read.mapping(root.get("priority"), "priority", PRIORITY_KEYS)
    due = read.mapping(root.get("due"), "due", DUE_KEYS)
    causes = read.texts(root.get("root_causes", list(_DEFAULT_CAUSES)), "root_causes")
    if "root_causes" in root and not causes and not any(p.startswith(f"{source}: root_causes") for p in read.problems):
        read.fail("root_causes", "needs at least one root cause")
    if len(set(causes)) != len(causes):
        read.fail("root_causes", "lists a root cause twice")
    owners_raw = read.mapping(root.get("region_owners"), "region_owners", None)
    owners = []
    for region, email in owners_raw.items():
        if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
            read.fail(f"region_owners.{region}", f"expected a user's email address, got {email!r}")
        else:
            owners.append((str(region), email.strip()))
    tiers = read.texts(priority.get("high_value_tiers", ["Gold"]), "priority.high_value_tiers")
    settings = FollowUpSettings(
        enabled=frozenset(enabled),
        nps_detractor_max=parameters["nps_detractor"], csat_bottom_points=parameters["csat_bottom"],
        ces_bottom_points=parameters["ces_bottom"], index_item_max=parameters["index_item_low"],
        min_drop=parameters["score_drop"], negative_words=tuple(words),
        priority_base=read.whole(priority, "priority", "base", 3, 1),
        severe_share=read.number(priority, "priority", "severe_share", 0.2, 0.0, 1.0),
        high_value=read.number(priority, "priority", "high_value", 100_000, 0.0),
        high_value_tiers=tiers,
        repeat_days=read.whole(priority, "priority", "repeat_days", 90, 0),
        captive_tenure_years=read.number(priority, "priority", "captive_tenure_years", 5, 0.0),
        due_hours_top=read.whole(due, "due", "top_priority_hours", 24, 1),
        due_working_days=read.whole(due, "due", "other_working_days", 3, 1),
        escalate_after_hours=read.whole(root, "", "escalate_after_hours", 24, 0),
        reinvite_after_days=read.whole(root, "", "reinvite_after_days", 30, 0),
        root_causes=causes, region_owners=tuple(owners), source=source)
    if settings.priority_base > 4:
        read.fail("priority.base", f"must be at most 4 (priorities run from 1 to 4), got {settings.priority_base}")
    if read.problems:
        raise FollowUpSettingsError(read.problems)
    return settings


_DEFAULT_CAUSES = ("product", "delivery", "billing", "staff attitude",
                   "customer did not understand how to use the product", "price", "other")
_CACHE: dict[tuple[str, float], FollowUpSettings] = {}


def settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """The rules file in use: `SURVEY_FOLLOWUP_SETTINGS`, else the shipped default."""
    configured = (os.environ if environ is None else environ).get(ENVIRONMENT_VARIABLE, "").strip()
    return Path(configured) if configured else DEFAULT_FILE


def load_settings(path: str | Path | None = None) -> FollowUpSettings:
    """The validated rules from `path` (default: `settings_path()`); re-read when the file changes."""
    path = Path(path) if path is not None else settings_path()
    try:
        stamp = path.stat().st_mtime
        key = (str(path.resolve()), stamp)
        if key in _CACHE:
            return _CACHE[key]
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FollowUpSettingsError([f"{path}: cannot read the follow-up settings ({error.strerror})"]) from None
    except UnicodeDecodeError:
        raise FollowUpSettingsError([f"{path}: not UTF-8 text"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise FollowUpSettingsError([f"{path}{line}: not valid YAML: {getattr(error, 'problem', None) or error}"]) from None
    settings = parse_settings(data, str(path))
    _CACHE[key] = settings
    return settings
