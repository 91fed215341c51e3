"""Integrations: telling other systems what happened. Webhooks for `response.created`,
`case.opened` and `case.resolved`: the outbox rows written in the transaction of the change they
announce (`outbox`), the receivers and their deliveries (`webhooks`), the HMAC signature
receivers check (`signing`) and the delivery worker that sends them with retries (`delivery`).

May import: `survey.messages`, `survey.storage` (models and sessions). It sits just above
storage: `survey.collection` and `survey.followup` import `outbox` to write their events in their
own transactions. Never the collection or follow-up code itself, the dashboard's queries, the CLI
or any UI.
"""
