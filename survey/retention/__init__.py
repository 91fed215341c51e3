"""Retention: what customers do after they answer. Customer events (purchases, renewals,
defections with a reason) stored once per event id (`events`: the CSV import and the API's
validation share one checker), the frames the Retention page and notebooks analyse (`queries`,
in the viewer's scope), and the demo's events with their planted effects (`demo`).

May import: `survey.messages`, `survey.settings`, `survey.storage` (models, sessions and the
dashboard's filters), `survey.people` (the viewer's scope) and `survey.collection.csvfiles` (the one strict CSV
reader). Follow-up cases are read from the models. Never the CLI or any UI.
"""
