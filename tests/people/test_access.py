"""Roles x actions: each cell allowed or refused, through the library functions and through the
pages (AppTest), and cached loaders never serve one user's rows to another."""

from __future__ import annotations

import pytest
import streamlit as st
from sqlalchemy import select

from app_pages import common
from app_pages.navigation import visible_pages
from survey import demo
from survey.people import access, accounts, audit, privacy
from survey.storage import db, models, queries
from survey.people.access import AccessDenied, Actor
from survey.storage.filters import Filters
from tests.conftest import actor_for, signed_in_page

SURVEY = "relationship-nps"
ROLES = ("admin", "manager", "field_manager")
# The matrix the issue asks for; "own" means allowed within the field manager's own customers.
EXPECTED = {
    "read aggregates": {"admin": True, "manager": True, "field_manager": True},
    "read responses": {"admin": True, "manager": True, "field_manager": "own"},
    "export": {"admin": True, "manager": True, "field_manager": "own"},
    "read own follow-up list": {"admin": True, "manager": True, "field_manager": True},
    "read another's follow-up case": {"admin": True, "manager": True, "field_manager": False},
    "follow-up overview": {"admin": True, "manager": True, "field_manager": False},
    "edit surveys": {"admin": True, "manager": False, "field_manager": False},
    "import answers": {"admin": True, "manager": False, "field_manager": False},
    "manage users": {"admin": True, "manager": False, "field_manager": False},
    "erase": {"admin": True, "manager": False, "field_manager": False},
    "read audit log": {"admin": True, "manager": False, "field_manager": False},
    "manage webhooks": {"admin": True, "manager": False, "field_manager": False},
}
ACTION_OF = {"read aggregates": access.READ_AGGREGATES, "read responses": access.READ_RESPONSES,
             "read own follow-up list": access.READ_FOLLOW_UP_LIST, "read another's follow-up case": access.WORK_CASES,
             "follow-up overview": access.FOLLOW_UP_OVERVIEW,
             "export": access.EXPORT_PERSONAL, "edit surveys": access.EDIT_SURVEYS,
             "import answers": access.IMPORT_RESPONSES, "manage users": access.MANAGE_USERS,
             "erase": access.ERASE_CUSTOMERS, "read audit log": access.READ_AUDIT_LOG,
             "manage webhooks": access.MANAGE_WEBHOOKS}
PAGE_OF = {"read aggregates": "overview", "read responses": "responses", "read own follow-up list": "my_followups",
           "follow-up overview": "follow_up", "import answers": "import_answers", "edit surveys": "designer",
           "manage users": "users", "read audit log": "audit_log", "manage webhooks": "webhooks"}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """A small demo database this module may write to (erasure, new users)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'demo.db'}"
    demo.generate(db.make_engine(url), end=demo.DEMO_END, customers=300, responses=6000, seed=7, progress=False)
    return url


def own_refs(url: str, actor: Actor) -> set[str]:
    with db.make_engine(url).connect() as connection:
        return set(connection.execute(select(models.Customer.external_ref)
                                      .where(models.Customer.field_manager_id == actor.user_id)).scalars())


def refs_in(frame_or_rows) -> set[str]:
    return set(frame_or_rows["customer_ref"].dropna())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_the_role_model_allows_exactly_the_matrix(action, role):
    actor = Actor(user_id=1, email="x@example.com", role=role)
    if action == "read another's follow-up case":  # the role may work cases; the row scope decides
        assert actor.may(ACTION_OF[action]) and actor.sees_every_customer == EXPECTED[action][role]
        return
    assert actor.may(ACTION_OF[action]) == bool(EXPECTED[action][role])


@pytest.mark.parametrize("role", ROLES)
def test_functions_enforce_the_matrix(demo_url, role, monkeypatch):
    monkeypatch.setenv("SURVEY_DATABASE_URL", demo_url)
    engine = db.make_engine(demo_url)
    actor = actor_for(demo_url, role)
    filters = Filters(SURVEY)
    everyone = queries.count_responses(engine, actor_for(demo_url, "admin"), filters)
    # read responses: all of them, or only the field manager's own customers (never an anonymous one)
    seen = queries.responses_page(engine, actor, filters, ("recommend",), limit=100_000)
    if EXPECTED["read responses"][role] == "own":
        assert 0 < len(seen) < everyone and refs_in(seen) <= own_refs(demo_url, actor)
        assert seen["customer_ref"].notna().all()
    else:
        assert len(seen) == everyone
    # export: allowed, within the same scope, and recorded in the audit log
    exported = common.responses_csv(actor, filters).decode("utf-8-sig").splitlines()
    assert len(exported) - 1 == len(seen)
    # follow-up cases: a field manager's own list holds only their cases; another's case is refused
    from survey.followup import queries as cases

    listed = cases.open_cases(engine, actor)
    assert len(listed) > 0
    with engine.connect() as connection:
        owners = dict(connection.execute(select(models.FollowUpCase.id, models.FollowUpCase.owner_id)).all())
    if role == "field_manager":
        assert {owners[case] for case in listed["case"]} == {actor.user_id}
    others = sorted(case for case, owner in owners.items() if owner != actor.user_id)
    if EXPECTED["read another's follow-up case"][role]:
        assert cases.case_detail(engine, actor, others[0]) is not None
    else:
        with pytest.raises(AccessDenied):
            cases.case_detail(engine, actor, others[0])
    # manage users, erase, read the audit log: admins only
    for action, call in [
        ("manage users", lambda: accounts.add_user(engine, actor, f"new.{role}@example.com", "manager")),
        ("erase", lambda: privacy.erase_customer(engine, actor, "C000300")),
        ("read audit log", lambda: audit.events(engine, actor)),
    ]:
        if EXPECTED[action][role]:
            call()
        else:
            with pytest.raises(AccessDenied):
                call()
    for action in ("edit surveys", "import answers"):
        if not EXPECTED[action][role]:
            with pytest.raises(AccessDenied, match="does not allow"):
                access.require(actor, ACTION_OF[action])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(PAGE_OF))
def test_pages_enforce_the_matrix(demo_url, monkeypatch, role, action):
    monkeypatch.setenv("SURVEY_DATABASE_URL", demo_url)
    st.cache_data.clear()
    app = signed_in_page(PAGE_OF[action], actor_for(demo_url, role), demo_url)
    app.run()
    assert not app.exception, app.exception
    refused = [e.value for e in app.error if "does not allow" in e.value]
    assert bool(refused) == (not EXPECTED[action][role])
    # and the page is in the role's navigation exactly when it may open it
    titles = [path for path, _ in visible_pages(actor_for(demo_url, role))]
    assert (f"app_pages/{PAGE_OF[action]}.py" in titles) == bool(EXPECTED[action][role])


def test_a_page_refuses_anyone_not_signed_in(demo_url, monkeypatch):
    monkeypatch.setenv("SURVEY_DATABASE_URL", demo_url)
    app = signed_in_page("responses", actor_for(demo_url), demo_url)
    app.session_state[common.ACTOR] = None
    app.run()
    assert [e.value for e in app.error] == ["Sign in first."] and not app.dataframe


def test_cached_rows_never_reach_another_user(demo_url, monkeypatch):
    """Two sessions in one process (Streamlit caches are shared): field manager A, then B, then A."""
    monkeypatch.setenv("SURVEY_DATABASE_URL", demo_url)
    st.cache_data.clear()
    first = actor_for(demo_url, email="fm.north.1@demo.example")
    second = actor_for(demo_url, email="fm.south.1@demo.example")
    shown = {}
    for actor in (first, second, first):
        app = signed_in_page("responses", actor, demo_url)
        app.run()
        assert not app.exception, app.exception
        refs = refs_in(app.dataframe[0].value)
        assert refs and refs <= own_refs(demo_url, actor)
        shown.setdefault(actor.email, []).append(refs)
    assert shown[first.email][0] == shown[first.email][1]  # A's second visit (from the cache) is A's rows
    assert not shown[first.email][0] & shown[second.email][0]
