"""Follow-up: every dissatisfied customer called back. Flagging rules (`rules`, pure), opening
cases in the same transaction as the response (`cases`), working them (`workflow`), reading them
in the user's scope with the managers' figures (`queries`), the field managers' digest
(`digest`), the rules file (`settings`) and the demo's worked cases (`demo`).

May import: `survey.messages`, `survey.settings`, `survey.exports`, `survey.definitions`,
`survey.storage` (models, sessions and bulk writes, not the dashboard's queries), `survey.people`, and from
`survey.collection` only what a case needs of it: `collect.storable_text` for notes,
`invitations.new_token` for re-invitations and `mail` for the digest; and
`survey.integrations.outbox`, to announce opened and resolved cases in their own transaction.
Never the CLI or any UI.
"""
