"""Storage: the engine and sessions (`db`), the typed models (`models`), the Alembic migrations,
the dashboard's filters (`filters`), its counting queries (`queries`), the count tables they read
whole months from (`counts`, kept by the triggers of `count_upkeep`) and the counts of people
outside a viewer's scope behind each aggregate (`scope_counts`).

May import: `survey.messages`, `survey.definitions` (to read a stored definition back),
`survey.people.access` (every query is scoped to the acting user) and, for the Overview's case
counts only, `survey.followup.queries`. Never `survey.collection`, the CLI or any UI. `models`
imports only `count_upkeep` (the count triggers' DDL, which imports nothing of the project): it is
the schema everything else stands on.
"""
