"""Deterministic demo data: users, customers, published sample surveys and two years of responses.

`generate` fills a database with data realistic enough to explore and with four planted effects
that a good dashboard must reveal (documented with their numbers in `sample_data/README.md`):

1. **A falling region.** In `North` the relationship NPS over the last four months is about 15
   points below the twenty months before, deepening month by month; the cause is the `support`
   driver, which drops in North over those months (post-support CSAT in North falls with it).
2. **One driver explains satisfaction.** Overall satisfaction is built mostly from the
   `drivers.support` rating plus noise; the other drivers share only a customer-level mood.
3. **Silent detractors.** Gold-tier (top fifth by annual value) customers in `Logistics` give low
   scores everywhere and never leave a comment: no text answer would ever flag them.
4. **Unhappy customers leave.** The customer events (`survey.retention.demo`, run last) plant that
   detractors defect about three times as often as promoters within a year, that about seven in
   ten defections give a service reason, and that a case resolved in time keeps the customer.

Everything is a function of the seed, the sizes and the end date (`end`, by default yesterday, so
that a first start shows recent data; tests pass `DEMO_END` or another fixed date), so the same
arguments write identical tables into two fresh databases, timestamps included. Responses are generated in chunks with numpy and written through the database driver's
fastest route (SQLite: `executemany` in one transaction per chunk; PostgreSQL: `COPY`), with
primary keys assigned here so answers can point at their responses without reading them back.

Example:
    >>> from survey.storage.db import make_engine
    >>> summary = generate(make_engine("sqlite://"), customers=50, responses=500, seed=1, end=DEMO_END)
    >>> summary.responses, summary.customers
    (500, 50)
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session

from survey.people import accounts
from survey.storage import bulk, counts, db, models
from survey.definitions.definition import Survey, load_yaml
from survey.definitions.publishing import publish

SAMPLE_SURVEYS = Path(__file__).resolve().parents[1] / "sample_data" / "surveys"
if not SAMPLE_SURVEYS.is_dir():  # installed by pip (pyproject.toml): they ship as survey_sample_surveys
    import importlib

    SAMPLE_SURVEYS = Path(next(iter(importlib.import_module("survey_sample_surveys").__path__)))

# A fixed end date for reproducible data (tests and benchmarks pass it); `generate` ends yesterday by default.
DEMO_END = date(2026, 10, 31)
MONTHS = 24
CHUNK_SIZE = 50_000  # responses per generated chunk and per transaction (part of the data's identity)
KEY_PREFIX = "demo"
USER_DOMAIN = "demo.example"

RELATIONSHIP = "relationship-nps"
SUPPORT = "post-support"
RELATIONSHIP_SHARE = 0.8

REGIONS = ("North", "South", "East", "West", "Central")
REGION_WEIGHTS = (0.22, 0.24, 0.18, 0.20, 0.16)
REGION_MOOD = (0.10, 0.0, -0.15, 0.05, -0.05)
INDUSTRIES = ("Manufacturing", "Retail", "Healthcare", "Logistics", "Construction", "Hospitality",
              "Education", "Legal", "Media", "Wholesale", "Finance", "Technology")
INDUSTRY_WEIGHTS = (0.14, 0.12, 0.10, 0.12, 0.08, 0.07, 0.06, 0.05, 0.05, 0.07, 0.07, 0.07)
TIERS = ("Gold", "Silver", "Bronze")  # top fifth by annual value, next two fifths, the rest
TIER_SHARES = (0.2, 0.4)
TIER_MOOD = (0.2, 0.0, -0.1)
CHANNELS = ("web", "email", "phone", "kiosk")
CHANNEL_WEIGHTS = {RELATIONSHIP: (0.45, 0.40, 0.10, 0.05), SUPPORT: (0.25, 0.30, 0.35, 0.10)}
PREFERRED_CHANNEL_SHARE = 0.6
FRENCH_SHARE = 0.08
CONSENT_SHARE = 0.88
VALUE_MEDIAN = 18_000.0
VALUE_SIGMA = 1.6  # lognormal: the top fifth of customers holds about three quarters of the value
TENURE_YEARS = 10

# Planted effects.
PLANTED_REGION = "North"
PLANTED_DRIVER = "support"
PLANTED_DROP = 0.50  # mean fall of the North support driver (scale points) over the last months
PLANTED_DROP_RAMP = (0.55, 0.85, 1.15, 1.45)  # per month, oldest first; mean 1
SILENT_TIER = "Gold"
SILENT_INDUSTRY = "Logistics"
SILENT_MOOD = -2.6

DRIVERS = ("product_quality", "delivery", "support", "billing", "value_for_money")
DRIVER_MEANS = (7.7, 7.3, 7.0, 7.5, 6.9)
RESOLVED = ("yes", "partly", "no")
RESOLVED_WEIGHTS = (0.72, 0.16, 0.12)
RESOLVED_EFFECT = (0.8, -0.6, -1.8)

# Answer columns shared by both surveys, in each survey's question order; one row per response.
COLUMNS = ("recommend", "satisfaction", "expectations", "ideal",
           *(f"drivers.{d}" for d in DRIVERS), "why_low", "csat", "effort", "resolved", "comment")
COLUMN = {name: i for i, name in enumerate(COLUMNS)}
TEXT_COLUMNS = ("why_low", "resolved", "comment")
EXPECTED_KEYS = {
    RELATIONSHIP: ("recommend", "satisfaction", "expectations", "ideal",
                   *(f"drivers.{d}" for d in DRIVERS), "why_low", "comment"),
    SUPPORT: ("csat", "effort", "resolved", "comment"),
}

# --- phrase banks: tone follows the score ---------------------------------------------------------
# Comments: per language, tone (negative, neutral, positive) and driver topic, three phrases each.
_COMMENTS = {
    "en": {
        "negative": {
            "product_quality": ("The last two orders had quality problems.", "Product quality has slipped this year.",
                                "Too many faulty items in recent deliveries."),
            "delivery": ("Deliveries keep arriving late.", "The delivery dates we were promised were missed again.",
                         "Late deliveries held up our own customers."),
            "support": ("Support takes days to answer a simple question.", "Nobody called back when our issue was urgent.",
                        "Every call to support means explaining the problem again."),
            "billing": ("Invoices are confusing and often wrong.", "We were billed twice and it took weeks to fix.",
                        "The invoice never matches the quote."),
            "value_for_money": ("Prices went up but the service did not improve.", "Too expensive for what we get.",
                                "Competitors offer the same for less."),
        },
        "neutral": {
            "product_quality": ("Products are fine, nothing special.", "Quality is acceptable but not consistent.",
                                "The products do the job."),
            "delivery": ("Deliveries are mostly on time.", "Delivery is okay; tracking could be better.",
                         "Usually on time, sometimes a day late."),
            "support": ("Support is helpful once you reach the right person.", "Support is polite but slow.",
                        "Support solved our issue in the end."),
            "billing": ("Billing is fine once you get used to it.", "Invoices could be simpler.",
                        "No real problems with billing."),
            "value_for_money": ("Prices are in line with the market.", "Fair prices, nothing more.",
                                "Value is reasonable."),
        },
        "positive": {
            "product_quality": ("Excellent product quality, every time.", "The products are reliable and well made.",
                                "Quality is the reason we stay."),
            "delivery": ("Always on time, even at short notice.", "Fast and reliable deliveries.",
                         "Delivery is faultless."),
            "support": ("Support is quick and knows our account.", "Our support contact is fantastic.",
                        "Problems get solved on the first call."),
            "billing": ("Clear invoices, no surprises.", "Billing is simple and accurate.",
                        "Invoices are easy to understand."),
            "value_for_money": ("Great value for the price.", "Worth every penny.",
                                "Better value than anyone else we tried."),
        },
    },
    "fr": {
        "negative": {
            "product_quality": ("Les deux dernières commandes avaient des défauts de qualité.",
                                "La qualité des produits a baissé cette année.",
                                "Trop d'articles défectueux dans les dernières livraisons."),
            "delivery": ("Les livraisons arrivent toujours en retard.", "Les dates promises n'ont encore pas été tenues.",
                         "Les retards de livraison ont pénalisé nos propres clients."),
            "support": ("Le service client met des jours à répondre à une question simple.",
                        "Personne ne nous a rappelés alors que c'était urgent.",
                        "À chaque appel, il faut réexpliquer le problème."),
            "billing": ("Les factures sont confuses et souvent fausses.",
                        "Nous avons été facturés deux fois et il a fallu des semaines pour corriger.",
                        "La facture ne correspond jamais au devis."),
            "value_for_money": ("Les prix ont augmenté mais pas le service.", "Trop cher pour ce que nous recevons.",
                                "La concurrence propose la même chose pour moins cher."),
        },
        "neutral": {
            "product_quality": ("Les produits sont corrects, sans plus.", "La qualité est acceptable mais irrégulière.",
                                "Les produits font leur travail."),
            "delivery": ("Les livraisons sont le plus souvent à l'heure.", "Livraison correcte ; le suivi pourrait être meilleur.",
                         "En général à l'heure, parfois un jour de retard."),
            "support": ("Le service client est utile quand on trouve la bonne personne.", "Service client poli mais lent.",
                        "Le service client a fini par régler notre problème."),
            "billing": ("La facturation va, une fois qu'on s'y est habitué.", "Les factures pourraient être plus simples.",
                        "Pas de vrai problème de facturation."),
            "value_for_money": ("Les prix sont dans la moyenne du marché.", "Des prix corrects, sans plus.",
                                "Le rapport qualité-prix est raisonnable."),
        },
        "positive": {
            "product_quality": ("Excellente qualité, à chaque fois.", "Des produits fiables et bien faits.",
                                "La qualité est la raison pour laquelle nous restons."),
            "delivery": ("Toujours à l'heure, même dans l'urgence.", "Des livraisons rapides et fiables.",
                         "Livraison irréprochable."),
            "support": ("Le service client est rapide et connaît notre compte.", "Notre interlocuteur est formidable.",
                        "Les problèmes sont réglés dès le premier appel."),
            "billing": ("Des factures claires, sans surprise.", "Une facturation simple et exacte.",
                        "Les factures sont faciles à comprendre."),
            "value_for_money": ("Excellent rapport qualité-prix.", "Cela vaut chaque centime.",
                                "Le meilleur rapport qualité-prix que nous ayons trouvé."),
        },
    },
}
# `why_low` (shown when recommend <= 6): what to fix, per language and the lowest-rated driver.
_FIXES = {
    "en": {
        "product_quality": ("Fix the quality problems in recent orders.", "Check products before they ship.",
                            "Make quality consistent again."),
        "delivery": ("Deliver on the dates you promise.", "Tell us in advance when a delivery will be late.",
                     "Sort out the delivery delays."),
        "support": ("Answer support requests faster.", "Call back when you say you will.",
                    "Give us one support contact who knows our account."),
        "billing": ("Send correct invoices the first time.", "Make invoices match the quotes.",
                    "Simplify the invoices."),
        "value_for_money": ("Bring prices back in line with the service.", "Reward loyal customers with better prices.",
                            "Explain the price increases."),
    },
    "fr": {
        "product_quality": ("Réglez les problèmes de qualité des dernières commandes.",
                            "Contrôlez les produits avant l'expédition.", "Retrouvez une qualité régulière."),
        "delivery": ("Livrez aux dates promises.", "Prévenez-nous à l'avance quand une livraison aura du retard.",
                     "Réglez les retards de livraison."),
        "support": ("Répondez plus vite aux demandes.", "Rappelez quand vous l'annoncez.",
                    "Donnez-nous un interlocuteur unique qui connaît notre compte."),
        "billing": ("Envoyez des factures justes du premier coup.", "Faites correspondre les factures aux devis.",
                    "Simplifiez les factures."),
        "value_for_money": ("Alignez les prix sur le service rendu.", "Récompensez les clients fidèles par de meilleurs prix.",
                            "Expliquez les hausses de prix."),
    },
}
# Post-support comments (English only, as the survey): per tone, four phrases.
_SUPPORT_COMMENTS = {
    "negative": ("I had to call three times before anyone helped.", "The issue is still not fixed.",
                 "I was passed from one person to another.", "Nobody told me what was happening with my ticket."),
    "neutral": ("It took a while but it got sorted.", "Fine, although the wait was long.",
                "The agent was friendly; the process was slow.", "Okay overall."),
    "positive": ("Quick, friendly and solved on the first call.", "The agent really knew the product.",
                 "Thank you for the fast help.", "Excellent support; I was kept updated throughout."),
}
TONES = ("negative", "neutral", "positive")
LANGUAGES = ("en", "fr")
PHRASES_PER_TOPIC = 3
SUPPORT_PHRASES = 4


def _flatten_banks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phrase banks as flat object arrays indexed arithmetically (vectorised choice of phrases)."""
    comments = [p for lang in LANGUAGES for tone in TONES for topic in DRIVERS for p in _COMMENTS[lang][tone][topic]]
    fixes = [p for lang in LANGUAGES for topic in DRIVERS for p in _FIXES[lang][topic]]
    support = [p for tone in TONES for p in _SUPPORT_COMMENTS[tone]]
    for bank, size in ((comments, 2 * 3 * 5 * PHRASES_PER_TOPIC), (fixes, 2 * 5 * PHRASES_PER_TOPIC),
                       (support, 3 * SUPPORT_PHRASES)):
        if len(bank) != size:
            raise ValueError("every entry of a phrase bank needs the same number of phrases")
    return np.array(comments, dtype=object), np.array(fixes, dtype=object), np.array(support, dtype=object)


COMMENT_BANK, FIX_BANK, SUPPORT_BANK = _flatten_banks()

# Plausible but fictional names and contact details (example.com domains; Ofcom's drama numbers).
_NAME_PREFIXES = ("Harbour", "Cobalt", "Meadow", "Brightside", "Northgate", "Oakfield", "Riverside", "Summit",
                  "Kestrel", "Ashford", "Bluebell", "Granite", "Lighthouse", "Marlow", "Pennine", "Redbrook",
                  "Silverline", "Thistle", "Willow", "Copperfield", "Fenwick", "Hollybush", "Ironbridge", "Lantern")
_INDUSTRY_NOUNS = {
    "Manufacturing": ("Engineering", "Works", "Components"), "Retail": ("Stores", "Outfitters", "Trading"),
    "Healthcare": ("Dental", "Clinic", "Care"), "Logistics": ("Logistics", "Freight", "Haulage"),
    "Construction": ("Construction", "Builders", "Contractors"), "Hospitality": ("Hotels", "Inns", "Catering"),
    "Education": ("Academy", "Learning", "College"), "Legal": ("Law", "Legal", "Chambers"),
    "Media": ("Media", "Studios", "Press"), "Wholesale": ("Wholesale", "Supplies", "Distribution"),
    "Finance": ("Finance", "Capital", "Accounting"), "Technology": ("Systems", "Software", "Digital"),
}
_NAME_SUFFIXES = ("Ltd", "Group", "& Co", "Partners", "plc")
_MAILBOXES = ("info", "hello", "ops", "accounts", "contact")
# Fictional numbers reserved for drama by Ofcom, by region: a prefix and the 1,000 endings after it.
_PHONE_PREFIXES = {"North": "+44 161 496 0", "South": "+44 20 7946 0", "East": "+44 1632 960",
                   "West": "+44 117 496 0", "Central": "+44 121 496 0"}
_PEOPLE = ("Alex Morgan", "Sam Patel", "Jordan Lee", "Priya Shah", "Tom Walsh", "Nadia Haddad", "Chris Evans",
           "Megan Rhys", "Oliver Grant", "Aisha Khan", "Ben Carter", "Lucy Fraser", "Daniel Okafor", "Emma Price")


class DemoDataExists(ValueError):
    """The database already holds demo data; generating again would duplicate it."""


@dataclass(frozen=True)
class DemoSummary:
    """What `generate` wrote, and the effects planted in it."""

    seed: int
    first_day: date
    last_day: date
    users: int
    customers: int
    responses: int
    answers: int
    responses_by_survey: tuple[tuple[str, int], ...]
    planted: tuple[str, ...]

    def __str__(self) -> str:
        by_survey = ", ".join(f"{slug}: {n:,}" for slug, n in self.responses_by_survey)
        lines = [f"demo data (seed {self.seed}): {self.users} users, {self.customers:,} customers, "
                 f"{self.responses:,} responses ({by_survey}), {self.answers:,} answers, "
                 f"{self.first_day} to {self.last_day}", "planted effects:"]
        return "\n".join(lines + [f"  - {effect}" for effect in self.planted])


PLANTED_EFFECTS = (
    f"{PLANTED_REGION}: relationship NPS over the last 4 months about 15 points below the 20 months before, "
    f"caused by a fall of drivers.{PLANTED_DRIVER} there",
    f"drivers.{PLANTED_DRIVER} explains most of overall satisfaction (the other drivers little)",
    f"{SILENT_TIER}-tier {SILENT_INDUSTRY} customers (high value) give low scores and never comment",
    "detractors leave about three times as often as promoters within a year, about 7 in 10 defections give a "
    "service reason, and customers whose case was resolved in time leave less (customer events)",
)


# --- the plan: everything decided before the first response ---------------------------------------


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per purpose (customers, chunk 0, chunk 1...) of one seed."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(stream,)))


def _window(end: date) -> tuple[date, date]:
    """First and last day of the MONTHS whole calendar months ending with `end`'s month (end included)."""
    months = end.year * 12 + end.month - 1 - (MONTHS - 1)
    return date(months // 12, months % 12 + 1, 1), end


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


@dataclass(frozen=True)
class _Customers:
    """The customer base as arrays (index i is customer id `first_id + i`)."""

    first_id: int
    region: np.ndarray
    industry: np.ndarray
    tier: np.ndarray
    value: np.ndarray
    mood: np.ndarray
    french: np.ndarray
    channel: np.ndarray
    silent: np.ndarray
    cumulative_weight: np.ndarray

    @property
    def count(self) -> int:
        return len(self.region)


def _plan_customers(seed: int, count: int, first_id: int) -> _Customers:
    rng = _rng(seed, 0)
    region = rng.choice(len(REGIONS), size=count, p=REGION_WEIGHTS)
    industry = rng.choice(len(INDUSTRIES), size=count, p=INDUSTRY_WEIGHTS)
    value = np.round(rng.lognormal(math.log(VALUE_MEDIAN), VALUE_SIGMA, size=count), -1).clip(500, None)
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(-value, kind="stable")] = np.arange(count)
    gold, silver = math.ceil(count * TIER_SHARES[0]), math.ceil(count * (TIER_SHARES[0] + TIER_SHARES[1]))
    tier = np.where(rank < gold, 0, np.where(rank < silver, 1, 2))
    silent = (tier == TIERS.index(SILENT_TIER)) & (industry == INDUSTRIES.index(SILENT_INDUSTRY))
    mood = (rng.normal(0.0, 0.8, size=count) + np.asarray(REGION_MOOD)[region] + np.asarray(TIER_MOOD)[tier]
            + np.where(silent, SILENT_MOOD, 0.0))
    french = rng.random(count) < FRENCH_SHARE
    channel = rng.choice(len(CHANNELS), size=count, p=CHANNEL_WEIGHTS[RELATIONSHIP])
    weight = value ** 0.25  # larger accounts have more contacts, so answer more often
    cumulative = np.cumsum(weight)
    return _Customers(first_id, region, industry, tier, value, mood, french, channel, silent,
                      cumulative / cumulative[-1])


def _customer_rows(seed: int, plan: _Customers, field_managers: dict[str, list[int]],
                   first_day: date) -> list[dict[str, Any]]:
    rng = _rng(seed, 1)
    n = plan.count
    prefix = rng.integers(len(_NAME_PREFIXES), size=n)
    noun = rng.integers(3, size=n)
    suffix = rng.integers(len(_NAME_SUFFIXES), size=n)
    mailbox = rng.integers(len(_MAILBOXES), size=n)
    phone = rng.integers(1000, size=n)
    consent = rng.random(n) < CONSENT_SHARE
    manager = rng.integers(2, size=n)
    tenure_days = rng.integers(1, TENURE_YEARS * 365 + 3, size=n)
    created = _at(first_day - timedelta(days=30))
    rows = []
    for i in range(n):
        region = REGIONS[plan.region[i]]
        industry = INDUSTRIES[plan.industry[i]]
        base = f"{_NAME_PREFIXES[prefix[i]]} {_INDUSTRY_NOUNS[industry][noun[i]]}"
        value = float(plan.value[i])
        rows.append({
            "id": plan.first_id + i,
            "external_ref": f"C{i + 1:06d}",
            "name": f"{base} {_NAME_SUFFIXES[suffix[i]]}",
            "email": f"{_MAILBOXES[mailbox[i]]}@{base.lower().replace(' ', '-')}.example.com",
            "phone": f"{_PHONE_PREFIXES[region]}{int(phone[i]):03d}",
            "consent_to_contact": bool(consent[i]),
            "region": region,
            "tier": TIERS[plan.tier[i]],
            "industry": industry,
            "annual_value": value,
            "tenure_start": first_day - timedelta(days=int(tenure_days[i])),
            "field_manager_id": field_managers[region][int(manager[i])],
            "attributes": {
                "channel_preference": CHANNELS[plan.channel[i]],
                "language": "fr" if plan.french[i] else "en",
                "account_size": "large" if value >= 100_000 else "medium" if value >= 20_000 else "small",
            },
            "created_at": created,
        })
    return rows


DEMO_PASSWORDS = {"admin": "demo-admin", "manager": "demo-manager", "field_manager": "demo-field-manager"}


def _demo_passwords(users: list[models.User], seed: int) -> None:
    # Documented passwords (README, sample_data/README.md), one per role; the salt derives from seed
    # and role so that the same seed still gives byte-identical tables. One hash per role, not per
    # user: scrypt is slow on purpose, and the first start would wait for thirteen of them.
    hashes = {}
    for user in users:
        if user.role not in hashes:
            salt = hashlib.sha256(f"demo-{seed}-{user.role}".encode()).digest()[:16]
            hashes[user.role] = accounts.hash_password(DEMO_PASSWORDS[user.role], salt=salt)
        user.password_hash = hashes[user.role]


def _add_users(session: Session, first_day: date, seed: int) -> list[models.User]:
    """One admin, two managers and two field managers per region, all flagged as demo users, with the
    documented demo passwords (DEMO_PASSWORDS)."""
    created = _at(first_day - timedelta(days=30))
    names = iter(_PEOPLE)
    admin = models.User(email=f"admin@{USER_DOMAIN}", name="Demo Admin", role="admin", is_demo=True,
                        created_at=created)
    managers = [models.User(email=f"manager.{k}@{USER_DOMAIN}", name=next(names), role="manager",
                            is_demo=True, created_at=created) for k in (1, 2)]
    session.add_all([admin, *managers])
    session.flush()  # field managers point at their manager's id
    field_managers = [
        models.User(email=f"fm.{region.lower()}.{k}@{USER_DOMAIN}", name=next(names), role="field_manager",
                    region=region, is_demo=True, created_at=created, manager_id=managers[0 if r < 3 else 1].id)
        for r, region in enumerate(REGIONS) for k in (1, 2)]
    _demo_passwords([admin, *managers, *field_managers], seed)
    session.add_all(field_managers)
    session.flush()
    return [admin, *managers, *field_managers]


# --- responses, one chunk at a time ----------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """Maps a quantile in [0, 1) to a moment, monotonically: busier weekdays, office hours, growth."""

    first_day: np.datetime64
    day_edges: np.ndarray
    hour_edges: np.ndarray
    days: int


def _calendar(first_day: date, last_day: date) -> _Calendar:
    days = (last_day - first_day).days + 1
    day = np.arange(days)
    dates = np.datetime64(first_day, "D") + day
    weekday = (dates.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weight = (1.0 + 0.3 * day / days) * np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.35, 0.25))
    month = dates.astype("datetime64[M]").astype("int64") % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype("int64") + 1
    weight *= np.where(month == 8, 0.75, 1.0)  # summer holidays
    weight *= np.where(((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1)), 0.4, 1.0)
    hours = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 13, 15, 17, 16, 13, 10, 8, 7, 6, 4, 3, 2], float)
    return _Calendar(np.datetime64(first_day, "s"), _edges(weight), _edges(hours), days)


def _edges(weight: np.ndarray) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(weight)])
    return cumulative / cumulative[-1]


def _moments(calendar: _Calendar, quantile: np.ndarray) -> np.ndarray:
    """Seconds-resolution datetime64 for each quantile (a nondecreasing map)."""
    day = np.clip(np.searchsorted(calendar.day_edges, quantile, side="right") - 1, 0, calendar.days - 1)
    within = (quantile - calendar.day_edges[day]) / (calendar.day_edges[day + 1] - calendar.day_edges[day])
    within = np.clip(within, 0.0, np.nextafter(1.0, 0.0))
    hour = np.clip(np.searchsorted(calendar.hour_edges, within, side="right") - 1, 0, 23)
    minute = (within - calendar.hour_edges[hour]) / (calendar.hour_edges[hour + 1] - calendar.hour_edges[hour])
    seconds = day * 86_400 + hour * 3_600 + np.minimum(np.floor(minute * 3_600), 3_599).astype(np.int64)
    return calendar.first_day + seconds.astype("timedelta64[s]")


@dataclass
class _Chunk:
    """One chunk of responses as parallel lists, ready for the driver."""

    response_rows: list[tuple]
    answer_rows: list[tuple]
    relationship: int
    support: int


def _json_text(text: Any) -> str:
    return json.dumps(text, ensure_ascii=False)


def _score(values: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.rint(values), low, high).astype(np.int64)


@dataclass(frozen=True)
class _Context:
    seed: int
    total: int
    customers: _Customers
    calendar: _Calendar
    first_month: int
    survey_ids: dict[str, int]
    version_ids: dict[str, int]
    postgres: bool


def _chunk(context: _Context, index: int, first_response_id: int, first_answer_id: int) -> _Chunk:
    """Responses `index * CHUNK_SIZE ...` of the whole run: a pure function of the context and index."""
    rng = _rng(context.seed, 100 + index)
    start = index * CHUNK_SIZE
    n = min(CHUNK_SIZE, context.total - start)
    number = np.arange(start, start + n)
    plan = context.customers

    moment = _moments(context.calendar, (number + rng.random(n)) / context.total)
    month = moment.astype("datetime64[M]").astype(np.int64) - context.first_month
    relationship = rng.random(n) < RELATIONSHIP_SHARE
    customer = np.minimum(np.searchsorted(plan.cumulative_weight, rng.random(n), side="right"), plan.count - 1)
    weights = np.where(relationship[:, None], np.asarray(CHANNEL_WEIGHTS[RELATIONSHIP])[None, :],
                       np.asarray(CHANNEL_WEIGHTS[SUPPORT])[None, :])
    drawn_channel = (rng.random(n)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1).clip(0, len(CHANNELS) - 1)
    channel = np.where(rng.random(n) < PREFERRED_CHANNEL_SHARE, plan.channel[customer], drawn_channel)
    french = relationship & plan.french[customer]
    silent = plan.silent[customer]
    # The planted fall: in the last months, the planted region's support gets worse, month by month.
    ramp_month = month - (MONTHS - len(PLANTED_DROP_RAMP))
    ramp = np.where(ramp_month >= 0, np.asarray(PLANTED_DROP_RAMP)[np.clip(ramp_month, 0, None)], 0.0)
    drop = np.where(plan.region[customer] == REGIONS.index(PLANTED_REGION), PLANTED_DROP * ramp, 0.0)
    mood = plan.mood[customer]

    numeric = np.full((n, len(COLUMNS)), np.nan)
    text = np.full((n, len(COLUMNS)), None, dtype=object)
    present = np.zeros((n, len(COLUMNS)), dtype=bool)

    # Relationship survey: drivers share the customer's mood; satisfaction is built mostly from support.
    driver_raw = (np.asarray(DRIVER_MEANS)[None, :] + mood[:, None] + rng.normal(0.0, 1.4, size=(n, len(DRIVERS))))
    support = DRIVERS.index(PLANTED_DRIVER)
    driver_raw[:, support] -= drop
    drivers = _score(driver_raw, 1, 10)
    others = np.delete(driver_raw - np.asarray(DRIVER_MEANS)[None, :], support, axis=1).mean(axis=1)
    satisfaction_raw = (7.4 + 0.9 * (driver_raw[:, support] - DRIVER_MEANS[support]) + 0.15 * others
                        + rng.normal(0.0, 0.7, size=n))
    recommend = _score(0.7 + 1.02 * satisfaction_raw + rng.normal(0.0, 1.2, size=n), 0, 10)
    index_items = np.column_stack([
        _score(satisfaction_raw, 1, 10),
        _score(satisfaction_raw - 0.3 + rng.normal(0.0, 1.0, size=n), 1, 10),
        _score(satisfaction_raw - 0.8 + rng.normal(0.0, 1.1, size=n), 1, 10),
    ])
    rated = [COLUMN["recommend"], COLUMN["satisfaction"], COLUMN["expectations"], COLUMN["ideal"],
             *(COLUMN[f"drivers.{d}"] for d in DRIVERS)]
    numeric[:, rated] = np.column_stack([recommend, index_items, drivers])
    present[:, rated] = relationship[:, None]

    lang = french.astype(np.int64)
    lowest = np.argmin(drivers, axis=1)
    highest = np.argmax(drivers, axis=1)
    detractor = recommend <= 6
    why_low = relationship & detractor & ~silent & (rng.random(n) < 0.6)
    fix = FIX_BANK[(lang * len(DRIVERS) + lowest) * PHRASES_PER_TOPIC + rng.integers(PHRASES_PER_TOPIC, size=n)]
    text[:, COLUMN["why_low"]] = np.where(why_low, fix, None)
    present[:, COLUMN["why_low"]] = why_low
    tone = np.where(detractor, 0, np.where(recommend <= 8, 1, 2))
    topic = np.where(tone == 0, lowest, np.where(tone == 2, highest, rng.integers(len(DRIVERS), size=n)))
    comment_rate = np.asarray((0.35, 0.15, 0.25))[tone]
    relationship_comment = relationship & ~silent & (rng.random(n) < comment_rate)
    phrase = COMMENT_BANK[((lang * len(TONES) + tone) * len(DRIVERS) + topic) * PHRASES_PER_TOPIC
                          + rng.integers(PHRASES_PER_TOPIC, size=n)]

    # Post-support survey: resolution drives CSAT and effort; the planted region's support fall shows too.
    support_survey = ~relationship
    resolved = (rng.random(n)[:, None] > np.cumsum(RESOLVED_WEIGHTS)[None, :]).sum(axis=1).clip(0, 2)
    experience = (0.6 * mood + np.asarray(RESOLVED_EFFECT)[resolved] - 0.6 * drop + rng.normal(0.0, 0.8, size=n))
    csat = _score(3.9 + experience, 1, 5)
    effort = _score(5.3 + 1.2 * experience + rng.normal(0.0, 0.9, size=n), 1, 7)
    numeric[:, COLUMN["csat"]] = csat
    numeric[:, COLUMN["effort"]] = effort
    text[:, COLUMN["resolved"]] = np.asarray(RESOLVED, dtype=object)[resolved]
    present[:, [COLUMN["csat"], COLUMN["effort"], COLUMN["resolved"]]] = support_survey[:, None]
    support_tone = np.where(csat <= 2, 0, np.where(csat == 3, 1, 2))
    support_comment = support_survey & ~silent & (rng.random(n) < np.where(csat <= 2, 0.5, 0.3))
    support_phrase = SUPPORT_BANK[support_tone * SUPPORT_PHRASES + rng.integers(SUPPORT_PHRASES, size=n)]

    commented = relationship_comment | support_comment
    text[:, COLUMN["comment"]] = np.where(relationship_comment, phrase, np.where(support_comment, support_phrase, None))
    present[:, COLUMN["comment"]] = commented

    # Answer rows in response order, each response's answers in question order.
    flat = np.flatnonzero(present.ravel())
    row_of, column_of = np.divmod(flat, len(COLUMNS))
    answer_values = numeric.ravel()[flat].astype(object)
    is_text = np.isin(column_of, [COLUMN[c] for c in TEXT_COLUMNS])
    answer_values[is_text] = None
    keys = np.asarray(COLUMNS, dtype=object)[column_of]
    answer_count = len(flat)
    answer_ids = range(first_answer_id, first_answer_id + answer_count)
    response_ids = first_response_id + row_of

    # Response rows, with the same content hash `survey.collection.collect.submit` would compute.
    survey_id = np.where(relationship, context.survey_ids[RELATIONSHIP], context.survey_ids[SUPPORT])
    version_id = np.where(relationship, context.version_ids[RELATIONSHIP], context.version_ids[SUPPORT])
    customer_id = plan.first_id + customer
    hashes = _content_hashes(relationship, version_id, customer_id, recommend, index_items, drivers,
                             text[:, COLUMN["why_low"]], text[:, COLUMN["comment"]], csat, effort, resolved)
    if context.postgres:
        stamps = [f"{s.replace('T', ' ')}+00" for s in np.datetime_as_string(moment, unit="s")]
    else:
        stamps = [f"{s[:10]} {s[11:]}.000000" for s in np.datetime_as_string(moment, unit="s")]
    answer_rows = list(zip(answer_ids, response_ids.tolist(), keys.tolist(), answer_values.tolist(),
                           text.ravel()[flat].tolist(), survey_id[row_of].tolist(),
                           np.asarray(stamps, dtype=object)[row_of].tolist(), customer_id[row_of].tolist()))
    response_rows = list(zip(
        range(first_response_id, first_response_id + n),
        [f"{KEY_PREFIX}-{context.seed}-{k}" for k in range(start, start + n)],
        hashes, survey_id.tolist(), version_id.tolist(), customer_id.tolist(),
        np.asarray(CHANNELS, dtype=object)[channel].tolist(),
        np.where(french, "fr", "en").astype(object).tolist(),
        stamps,
    ))
    relationship_count = int(relationship.sum())
    return _Chunk(response_rows, answer_rows, relationship_count, n - relationship_count)


def _content_hashes(relationship, version_id, customer_id, recommend, index_items, drivers, why_low, comment,
                    csat, effort, resolved) -> list[str]:
    """sha256 of the canonical JSON `survey.collection.collect.content_hash` builds, written out directly (fast)."""
    sorted_drivers = sorted(range(len(DRIVERS)), key=lambda k: DRIVERS[k])
    driver_lists = [drivers[:, k].tolist() for k in sorted_drivers]
    driver_names = [DRIVERS[k] for k in sorted_drivers]
    driver_template = ", ".join(f'"{name}": {{}}' for name in driver_names)
    hashes = []
    columns = zip(relationship.tolist(), version_id.tolist(), customer_id.tolist(), recommend.tolist(),
                  index_items[:, 0].tolist(), index_items[:, 1].tolist(), index_items[:, 2].tolist(),
                  zip(*driver_lists), why_low.tolist(), comment.tolist(), csat.tolist(), effort.tolist(),
                  resolved.tolist())
    sha256 = hashlib.sha256
    for rel, version, customer, rec, sat, exp, ideal, drv, why, com, cs, eff, res in columns:
        head = f'"comment": {_json_text(com)}, ' if com is not None else ""
        if rel:
            tail = f', "why_low": {_json_text(why)}' if why is not None else ""
            answers = (f'{head}"drivers": {{{driver_template.format(*drv)}}}, "expectations": {exp}, '
                       f'"ideal": {ideal}, "recommend": {rec}, "satisfaction": {sat}{tail}')
        else:
            answers = f'{head}"csat": {cs}, "effort": {eff}, "resolved": "{RESOLVED[res]}"'
        canonical = f'{{"answers": {{{answers}}}, "customer": {customer}, "version": {version}}}'
        hashes.append(sha256(canonical.encode("utf-8")).hexdigest())
    return hashes


# --- writing --------------------------------------------------------------------------------------

RESPONSE_COLUMNS = ("id", "idempotency_key", "content_hash", "survey_id", "survey_version_id", "customer_id",
                    "channel", "language", "submitted_at")
ANSWER_COLUMNS = ("id", "response_id", "question_key", "numeric_value", "text_value", "survey_id", "submitted_at",
                  "customer_id")


def _insert(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert rows through the fastest correct route of the driver (`bulk.insert_values`), else Core."""
    if bulk.has_driver_route(connection):
        bulk.insert_values(connection, table, columns, rows)
    elif rows:  # any other database: SQLAlchemy Core, with Python values for every type
        records = [dict(zip(columns, row)) for row in rows]
        if "submitted_at" in columns:
            for record in records:
                record["submitted_at"] = datetime.fromisoformat(record["submitted_at"]).replace(tzinfo=timezone.utc)
        connection.execute(models.Base.metadata.tables[table].insert(), records)


def _max_id(connection: Connection, table: Any) -> int:
    return connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()


def _fix_sequences(connection: Connection) -> None:
    """PostgreSQL serial sequences do not see explicit ids: move them past what was written."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("users", "customers", "responses", "answers", "surveys", "survey_versions"):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")


# --- the entry point ------------------------------------------------------------------------------


def sample_surveys(folder: Path = SAMPLE_SURVEYS) -> list[Survey]:
    """The sample survey definitions, by file name; the two the demo answers must be among them."""
    surveys = [load_yaml(path) for path in sorted(folder.glob("*.yaml"))]
    by_slug = {s.slug: s for s in surveys}
    for slug, keys in EXPECTED_KEYS.items():
        if slug not in by_slug:
            raise ValueError(f"{folder}: the demo needs the sample survey {slug!r}, which is missing")
        found = tuple(k for q in by_slug[slug].questions for k in q.answer_keys)
        if found != keys:
            raise ValueError(f"{folder}: sample survey {slug!r} has answer keys {', '.join(found)}; "
                             f"the demo generator expects {', '.join(keys)}")
    return surveys


def _refuse_existing_demo_data(connection: Connection, seed: int, customer_count: int) -> None:
    responses = models.Response.__table__
    key = f"{KEY_PREFIX}-{seed}-0"
    if connection.execute(select(responses.c.id).where(responses.c.idempotency_key == key)).first():
        raise DemoDataExists(f"demo data for seed {seed} is already in this database "
                             "(generate into a fresh database to start again)")
    other = connection.execute(
        select(responses.c.idempotency_key)
        .where(responses.c.idempotency_key >= f"{KEY_PREFIX}-", responses.c.idempotency_key < f"{KEY_PREFIX}.")
        .limit(1)).scalar()
    users = models.User.__table__
    if other is not None or connection.execute(select(users.c.id).where(users.c.is_demo).limit(1)).first():
        which = f"seed {other.split('-')[1]}" if other else "an earlier run"
        raise DemoDataExists(f"demo data from {which} is already in this database; demo data is generated "
                             f"once per database (use a fresh database for seed {seed})")
    customers = models.Customer.__table__
    last_ref = f"C{customer_count:06d}"
    clash = connection.execute(select(customers.c.external_ref).where(
        customers.c.external_ref.between("C000001", last_ref), func.length(customers.c.external_ref) == 7,
    ).order_by(customers.c.external_ref).limit(1)).scalar()
    if clash is not None:
        raise DemoDataExists(f"customer {clash} already exists in this database; the demo customers "
                             f"C000001 to {last_ref} need a database without them")


def _fixed_timestamps(session: Session, moment: datetime) -> None:
    """Give rows that `publish` creates the demo's reference time instead of the wall clock."""

    @event.listens_for(session, "before_flush")
    def stamp(session: Session, _context: Any, _instances: Any) -> None:
        for obj in session.new:
            if isinstance(obj, models.Survey) and obj.created_at is None:
                obj.created_at = moment
            elif isinstance(obj, models.SurveyVersion) and obj.published_at is None:
                obj.published_at = moment


def default_end() -> date:
    """Yesterday (UTC): the demo's last day when no end date is given, so that nothing looks stale."""
    return datetime.now(timezone.utc).date() - timedelta(days=1)


def generate(engine: Engine, customers: int = 2_000, responses: int = 50_000, seed: int = 7,
             progress: bool = False, *, end: date | None = None) -> DemoSummary:
    """Write deterministic demo data into the database behind `engine` and say what was planted.

    Publishes the sample surveys, creates demo users (admin, managers, field managers), `customers`
    customers and `responses` responses over the 24 months ending on `end` (default: yesterday, in
    UTC; pass a fixed date for reproducible data). The schema is brought
    up to date first. Raises DemoDataExists (a ValueError) when the database already holds demo data.

    Example:
        >>> from survey.storage.db import make_engine
        >>> print(generate(make_engine("sqlite://"), customers=20, responses=100, seed=3, end=DEMO_END))  # doctest: +ELLIPSIS
        demo data (seed 3): 13 users, 20 customers, 100 responses (...), ... answers, 2024-11-01 to 2026-10-31
        planted effects:
        ...
    """
    for name, value, minimum in (("customers", customers, 1), ("responses", responses, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    if customers > 999_999:
        raise ValueError(f"customers must be at most 999999 (external refs C000001...), got {customers}")
    customers, responses, seed = int(customers), int(responses), int(seed)
    first_day, last_day = _window(default_end() if end is None else end)
    definitions = sample_surveys()
    db.upgrade(engine)

    with db.session_scope(engine) as session:
        connection = session.connection()
        _refuse_existing_demo_data(connection, seed, customers)
        _fixed_timestamps(session, _at(first_day - timedelta(days=1)))
        versions = {survey.slug: publish(session, survey) for survey in definitions}
        users = _add_users(session, first_day, seed)
        field_managers: dict[str, list[int]] = {}
        for user in users:
            if user.role == "field_manager":
                field_managers.setdefault(user.region, []).append(user.id)
        plan = _plan_customers(seed, customers, _max_id(connection, models.Customer.__table__) + 1)
        connection.execute(models.Customer.__table__.insert(), _customer_rows(seed, plan, field_managers, first_day))
        _fix_sequences(connection)
        context = _Context(
            seed=seed, total=responses, customers=plan, calendar=_calendar(first_day, last_day),
            first_month=int(np.datetime64(first_day, "M").astype(np.int64)),
            survey_ids={slug: versions[slug].survey_id for slug in EXPECTED_KEYS},
            version_ids={slug: versions[slug].id for slug in EXPECTED_KEYS},
            postgres=connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg")

    per_survey = {RELATIONSHIP: 0, SUPPORT: 0}
    answers = 0
    chunks = math.ceil(responses / CHUNK_SIZE)
    bar = _progress(responses, progress)
    try:
        # the answers' indexes are built once after the last chunk; the follow-up cases need them
        with counts.upkept_afterwards(engine), bulk.indexes_built_afterwards(engine, models.Answer.__table__), \
                bulk.indexes_built_afterwards(engine, models.Response.__table__), engine.connect() as connection, \
                db.bulk_write_cache(connection):
            for index in range(chunks):
                with connection.begin():
                    # Ids are read inside the chunk's transaction, so a concurrent writer makes this
                    # chunk fail rather than collide.
                    first_response = _max_id(connection, models.Response.__table__) + 1
                    first_answer = _max_id(connection, models.Answer.__table__) + 1
                    chunk = _chunk(context, index, first_response, first_answer)
                    _insert(connection, "responses", RESPONSE_COLUMNS, chunk.response_rows)
                    _insert(connection, "answers", ANSWER_COLUMNS, chunk.answer_rows)
                    if index == chunks - 1:
                        _fix_sequences(connection)
                per_survey[RELATIONSHIP] += chunk.relationship
                per_survey[SUPPORT] += chunk.support
                answers += len(chunk.answer_rows)
                bar.update(len(chunk.response_rows))
    finally:
        bar.close()
    from survey.followup.demo import add_demo_cases  # follow-up cases with histories, as if worked live

    add_demo_cases(engine, end=last_day, seed=seed)
    from survey.retention.demo import add_demo_events  # purchases, renewals, defections after the answers

    add_demo_events(engine, first_day, last_day, seed=seed,
                    customer_ids=range(plan.first_id, plan.first_id + customers))
    with engine.begin() as connection:
        db.refresh_statistics(connection)
    return DemoSummary(seed=seed, first_day=first_day, last_day=last_day, users=len(users),
                       customers=customers, responses=responses, answers=answers,
                       responses_by_survey=tuple(per_survey.items()), planted=PLANTED_EFFECTS)


class _NoProgress:
    def update(self, _n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, shown: bool):
    if not shown:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit=" responses", unit_scale=True, file=sys.stderr, desc="demo data")


__all__ = ["generate", "DemoSummary", "DemoDataExists", "sample_surveys", "DEMO_END", "PLANTED_REGION",
           "PLANTED_DRIVER", "SILENT_TIER", "SILENT_INDUSTRY", "REGIONS", "TIERS", "INDUSTRIES", "CHANNELS"]
