"""Collection: answers coming in. One validation for every channel and idempotent submission
(`collect`), the respondent's side of links and drafts (`respondent`), the respondent form as
plain HTML pages (`form`), CSV reading and the imports of responses and customers, invitations and
the mail that sends them, and the JSON API with its keys and rate limits (`api`, `apikeys`,
`ratelimit`); the API and the form share `database_threads` (connect on first use, work in
worker threads).

May import: `survey.messages`, `survey.settings`, `survey.exports`, `survey.definitions`,
`survey.storage` (models, sessions, bulk writes and, for an import's counting, `counts`), `survey.people` and, to flag each stored response in the
same transaction, `survey.followup.cases`; for the customer-events route, `survey.retention.events`
(the checks the events import uses); to announce it to webhooks in the same transaction,
`survey.integrations.outbox`. Never the dashboard's queries
(`survey.storage.queries`), the CLI or any UI.
"""
