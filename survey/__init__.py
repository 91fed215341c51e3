"""The survey toolkit's library: domain, storage and collection (no Streamlit here).

Subpackages, lowest first (each one's docstring says what it may import; the architecture test
enforces it):

- `survey.definitions`: what a survey is (model, YAML, XLSForm, editing, publishing versions);
- `survey.storage`: engine, models, migrations, the dashboard's filters and counting queries;
- `survey.people`: roles and scope, accounts, privacy, the audit log;
- `survey.collection`: validation and submission for every channel, imports, invitations, the API;
- `survey.followup`: cases for dissatisfied customers, from flagging to the digest;
- `survey.retention`: customer events (purchases, renewals, defections) and the retention figures' data.
- `survey.integrations`: webhooks (outbox, signing, delivery worker), just above storage: collection
  and followup write their events into it in their own transactions.

At the top: `cli` (`python -m survey`), `demo`, `bootstrap` (first start), `exports`
(spreadsheet-safe writing), `response_export` (responses for SPSS, Stata, Excel and R), `settings` (from the environment) and `messages` (every user-facing
error text).

Modules that lived at the top before the subpackages existed (`survey.definition`, `survey.db`,
`survey.collect`, ...) still import, with a DeprecationWarning naming the new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED_MODULES = {
    **{f"survey.{name}": f"survey.definitions.{name}" for name in (
        "definition", "definition_files", "xlsform", "xlsform_export", "editing", "wording", "changes",
        "publishing", "templates")},
    **{f"survey.{name}": f"survey.storage.{name}" for name in ("db", "models", "filters", "queries")},
    **{f"survey.{name}": f"survey.people.{name}" for name in ("access", "accounts", "privacy", "audit")},
    **{f"survey.{name}": f"survey.collection.{name}" for name in (
        "collect", "respondent", "response_import", "customers", "csvfiles", "invitations", "mail", "api",
        "apikeys")},
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves an old module path as the module at its new path (the same object, not a copy)."""

    own_specs: dict = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new_name = MOVED_MODULES[spec.name]
        warnings.warn(f"{spec.name} moved to {new_name}; import it from there", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new_name)
        self.own_specs.setdefault(new_name, module.__spec__)
        return module

    def exec_module(self, module):
        # The import system stamped the old name's spec on the module; give it back its own
        module.__spec__ = self.own_specs[module.__name__]


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
