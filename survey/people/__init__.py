"""People: who may do what and what is kept about them. Roles, the actions they allow and each
user's row scope (`access`), local accounts and sign-in (`accounts`) with its throttling of
repeated failures (`throttle`), the server-side sign-in sessions behind the dashboard's cookie
(`sessions`) and the routes that set and clear it (`session_routes`), privacy (erasure,
retention, the small-group rule of anonymous surveys: `privacy`) and the audit log (`audit`).

May import: `survey.messages` and `survey.storage.models` / `survey.storage.db` (the tables it
guards). Never `survey.definitions`' editing, `survey.collection`, `survey.followup`, or the
dashboard's queries: those ask `people` for scope, not the other way round.
"""
