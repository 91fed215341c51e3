"""Build sample_data/surveys/store_visit.xlsx, an XLSForm for an in-store visit survey (en/es).

It shows what the XLSForm import understands: a `metric` column declaring CSAT, CES and NPS
questions, scale end labels per language, select_one lists on the choices sheet, a flattened
group, `required`, and `relevant` conditions of the form `${q} <op> value`.

Example:
    python sample_data/surveys/build_store_visit_xlsx.py
    python -m survey survey import-xlsform sample_data/surveys/store_visit.xlsx --yaml /tmp/store_visit.yaml
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

OUT = Path(__file__).with_name("store_visit.xlsx")
EN, ES = "English (en)", "Español (es)"

SURVEY_COLUMNS = [
    "type", "name", f"label::{EN}", f"label::{ES}", f"hint::{EN}", f"hint::{ES}", "required",
    "relevant", "metric", "scale_min", "scale_max", f"min_label::{EN}", f"max_label::{EN}",
    f"min_label::{ES}", f"max_label::{ES}",
]
SURVEY_ROWS = [
    {"type": "begin group", "name": "visit", f"label::{EN}": "Your visit", f"label::{ES}": "Su visita"},
    {"type": "select_one reasons", "name": "visit_reason", "required": "yes",
     f"label::{EN}": "What was the main reason for your visit today?",
     f"label::{ES}": "¿Cuál fue el motivo principal de su visita de hoy?"},
    {"type": "integer", "name": "satisfaction", "metric": "csat", "required": "yes",
     "scale_min": 1, "scale_max": 5,
     f"label::{EN}": "Overall, how satisfied are you with your visit to our store?",
     f"label::{ES}": "En general, ¿qué tan satisfecho está con su visita a nuestra tienda?",
     f"min_label::{EN}": "Very dissatisfied", f"max_label::{EN}": "Very satisfied",
     f"min_label::{ES}": "Muy insatisfecho", f"max_label::{ES}": "Muy satisfecho"},
    {"type": "integer", "name": "effort", "metric": "ces", "required": "yes",
     "scale_min": 1, "scale_max": 7,
     f"label::{EN}": "The store made it easy for me to find what I needed.",
     f"label::{ES}": "La tienda me facilitó encontrar lo que necesitaba.",
     f"min_label::{EN}": "Strongly disagree", f"max_label::{EN}": "Strongly agree",
     f"min_label::{ES}": "Totalmente en desacuerdo", f"max_label::{ES}": "Totalmente de acuerdo"},
    {"type": "select_one yes_no", "name": "found_everything",
     f"label::{EN}": "Did you find everything you were looking for?",
     f"label::{ES}": "¿Encontró todo lo que buscaba?"},
    {"type": "text", "name": "missing_items", "relevant": "${found_everything} = 'no'",
     f"label::{EN}": "What could you not find?", f"label::{ES}": "¿Qué no pudo encontrar?",
     f"hint::{EN}": "Product names or departments", f"hint::{ES}": "Nombres de productos o secciones"},
    {"type": "end group"},
    {"type": "integer", "name": "recommend", "metric": "nps", "required": "yes",
     f"label::{EN}": "How likely are you to recommend our store to a friend or colleague?",
     f"label::{ES}": "¿Qué probabilidad hay de que recomiende nuestra tienda a un amigo o colega?",
     f"min_label::{EN}": "Not at all likely", f"max_label::{EN}": "Extremely likely",
     f"min_label::{ES}": "Nada probable", f"max_label::{ES}": "Muy probable"},
    {"type": "text", "name": "improve", "relevant": "${recommend} <= 6",
     f"label::{EN}": "What is the one thing we should improve?",
     f"label::{ES}": "¿Qué es lo único que deberíamos mejorar?"},
]
CHOICES_COLUMNS = ["list_name", "name", f"label::{EN}", f"label::{ES}"]
CHOICES_ROWS = [
    ("reasons", "purchase", "To buy something", "Para comprar algo"),
    ("reasons", "return", "To return or exchange an item", "Para devolver o cambiar un artículo"),
    ("reasons", "pickup", "To pick up an online order", "Para recoger un pedido en línea"),
    ("reasons", "browse", "Just browsing", "Solo mirando"),
    ("yes_no", "yes", "Yes", "Sí"),
    ("yes_no", "no", "No", "No"),
]
SETTINGS_COLUMNS = ["form_id", f"form_title::{EN}", f"form_title::{ES}", "default_language", "version"]
SETTINGS_ROW = ["store_visit", "Your visit to our store", "Su visita a nuestra tienda", EN, "2024120101"]


def build(path: Path = OUT) -> Path:
    """Write the workbook to `path` and return it."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)
    for row in SURVEY_ROWS:
        survey.append([row.get(column) for column in SURVEY_COLUMNS])
    choices = book.create_sheet("choices")
    choices.append(CHOICES_COLUMNS)
    for row in CHOICES_ROWS:
        choices.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(SETTINGS_COLUMNS)
    settings.append(SETTINGS_ROW)
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    stamp = datetime(2024, 12, 1)  # fixed, so rebuilding does not change the document properties
    book.properties.created = book.properties.modified = stamp
    book.save(path)
    return path


if __name__ == "__main__":
    print(f"wrote {build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)}")
