"""The respondent form as plain server-rendered HTML (no scripts, no websocket), served beside the
app by `st.App` routes: `screens` (layout, next screen by condition, posted fields to answers),
`view` (a question as template data), `tokens` (anti-forgery), `pages` (the routes, and the
middleware that sends old `/?t=` and `/?s=` links here). Part of `survey.collection`: imports
what it may.
"""
