"""Reading an uploaded definition file (YAML or XLSForm) from its name and bytes.

Both formats go through their one reader (`definition.loads_yaml`, `xlsform.read_xlsform`), so an
upload is checked exactly as the command line checks a file: a DefinitionError lists every
problem, by question key and line (YAML) or by sheet and row (XLSForm).

Example:
    >>> read_upload("s.yaml", b"slug: s\\ntitle: S\\nquestions:\\n- {key: a, kind: nps, text: Q}")[0].slug
    's'
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Collection

from survey import messages
from survey.definitions.definition import DefinitionError, Survey, loads_yaml
from survey.definitions.xlsform import MetricProposal, read_xlsform

YAML_SUFFIXES = (".yaml", ".yml")
XLSFORM_SUFFIXES = (".xlsx", ".xls", ".csv", ".md")  # the formats pyxform reads


def read_upload(name: str, data: bytes, accept_proposed_metrics: bool | Collection[str] = False
                ) -> tuple[Survey, list[str]]:
    """The survey an uploaded file defines, and the import's warnings (what was not carried over).

    Raises DefinitionError listing every problem; nothing is stored either way.
    """
    survey, warnings, _ = read_upload_with_proposals(name, data, accept_proposed_metrics)
    return survey, warnings


def read_upload_with_proposals(name: str, data: bytes, accept_proposed_metrics: bool | Collection[str] = False
                               ) -> tuple[Survey, list[str], list[MetricProposal]]:
    """`read_upload`, plus the metrics an XLSForm import proposes (none for YAML, which declares them).

    `accept_proposed_metrics` declares all proposed metrics (True) or those of the named questions.
    """
    source = Path(name).name or "upload"
    suffix = Path(source).suffix.lower()
    if suffix in YAML_SUFFIXES:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DefinitionError([messages.NOT_UTF8.format(source=source)]) from None
        return loads_yaml(text, source=source), [], []
    if suffix in XLSFORM_SUFFIXES:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / source
            path.write_bytes(data)
            result = read_xlsform(path, accept_proposed_metrics)
        return result.survey, list(result.warnings), list(result.proposals)
    raise DefinitionError([messages.UPLOAD_UNKNOWN_TYPE.format(source=source)])
