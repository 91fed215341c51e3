"""User-facing error messages, in one place (as pyxform keeps them).

Each names where the fault is (file, question key, line, row or field) and what is wrong, so a
person can fix the input without reading code.
"""

# Definition files (YAML and shared checks)
YAML_SYNTAX = "{source}{line}: not valid YAML: {problem}"
CANNOT_READ = "{source}: cannot read the file: {problem}"
NOT_UTF8 = "{source}: the file is not UTF-8 text"
NOT_A_MAPPING = "{source}: a survey definition must be a mapping with slug, title and questions"
NO_QUESTIONS = "{source}: 'questions' must be a non-empty list"
UNKNOWN_FIELD = "{where}: unknown field {field!r}"
NOT_A_LIST = "{where}: choices and attributes must be a list"
CHOICE_WITHOUT_VALUE = "{where}: every choice needs a value"
QUESTION_NOT_MAPPING = "{where}: a question must be a mapping with key, kind and text"
MISSING_KEY = "{where}: the question has no key"
BAD_KEY = "{where}: key {key!r} must start with a letter and hold only letters, digits and _"
BAD_SLUG = "{source}: slug {slug!r} must start with a letter and hold only letters, digits, - and _"
DUPLICATE_KEY = "{where}: duplicate key {key!r} (keys must be unique within a survey)"
DUPLICATE_LANGUAGE = "{source}: a language is listed twice in 'languages'"
UNKNOWN_KIND = "{where}: unknown kind {kind!r} (expected one of: {kinds})"
UNKNOWN_ROLE = "{where}: unknown role {role!r} (expected one of: {roles})"
BAD_CONDITION = "condition {condition!r} must have the form '<question key> <op> <value>' with op one of <, <=, >, >=, ==, !="
CONDITION_ON_ITSELF = "{where}: the display condition refers to the question itself ({key!r})"
CONDITION_ON_LATER = "{where}: the display condition refers to {key!r}, which comes later in the survey"
CONDITION_ON_UNKNOWN = "{where}: the display condition refers to unknown question {key!r}"
SCALE_NEEDS_BOUNDS = "{where}: a rated question needs a scale with min and max"
SCALE_NOT_INTEGER = "{where}: scale bounds must be whole numbers, got min={low!r} max={high!r}"
SCALE_MIN_NOT_BELOW_MAX = "{where}: scale min ({low}) must be below max ({high})"
FIXED_SCALE = "{where}: a {kind} question is always on the {low}-{high} scale"
SCALE_NEEDS_LABELS = "{where}: a rating scale needs end labels (scale.labels)"
SCALE_LABELS_PAIR = "{where}: scale labels for {language!r} must be a pair [low end, high end]"
MISSING_SCALE_LABEL = "{where}: scale end labels missing for language {language!r}"
MISSING_TRANSLATION = "{where}: missing text for language {language!r}"
CHOICES_REQUIRED = "{where}: a {kind} question needs a list of choices"
ATTRIBUTES_REQUIRED = "{where}: a matrix question needs a list of attributes"
DUPLICATE_CHOICE = "{where}: duplicate {what} value {value!r}"
BAD_MAX_LENGTH = "{where}: max_length must be a positive whole number, got {value!r}"

# Publishing and storage
UNKNOWN_SURVEY = "no survey with slug {slug!r}"

# CSV imports
CSV_MISSING_COLUMNS = "{source}: missing column(s): {columns}"
CSV_EMPTY = "{source}: the file has no data rows"
CSV_BAD_VALUE = "{source}: row {row}, column {column!r}: {problem}"
CSV_DUPLICATE = "{source}: row {row}, column {column!r}: {value!r} appears more than once in the file"
