"""Definitions: what a survey is and how it changes. The frozen `Survey` / `Question` / `Choice`
model and its YAML format (`definition`), the condition language (`conditions`), XLSForm import
through pyxform and export (`xlsform`, `xlsform_export`), uploaded definition files, step-by-step editing, wording checks, the changes
between two versions, the shipped templates, and publishing immutable versions (`publishing`).

May import: `survey.messages` and, for publishing only, `survey.storage.models` and
`survey.storage.count_upkeep` (a new version names the index items the dashboard counts). Never `survey.collection`, `survey.people`, `survey.followup` or the
dashboard's queries (`survey.storage.queries`, `survey.storage.filters`).
"""
