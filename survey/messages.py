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
UNKNOWN_LAYOUT = "{source}: layout {layout!r} is not known (expected one of: {layouts})"
BAD_GROUP = "{where}: group {group!r} must start with a letter and hold only letters, digits and _"
GROUP_NOT_TOGETHER = ("{where}: group {group!r} appeared earlier with other questions in between; "
                      "a group's questions must follow each other (they share one screen)")
UNKNOWN_ROLE = "{where}: unknown role {role!r} (expected one of: {roles})"
BAD_CONDITION = "condition {condition!r} must have the form '<question key> <op> <value>' with op one of <, <=, >, >=, ==, !="
BAD_CONDITION_AT = "condition {condition!r} cannot be read: {problem}"
PIPE_NOT_EARLIER = "{where}: the text shows ${{{key}}}, which is not an earlier question of the survey"
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

# Wording checks (survey/definitions/wording.py): warnings shown beside a question, never blocking publishing
WORDING_TOO_LONG = "[{language}] {words} words: questions over {limit} words are hard to read; shorten it"
WORDING_DOUBLE_BARRELLED = ("[{language}] {word!r} in a rated question ({text!r}) may ask two things at once; "
                            "one rating cannot say which it rates: ask one question per thing")
WORDING_LEADING = "[{language}] leading wording ({phrase!r}) pushes towards an answer; ask neutrally"
WORDING_DUPLICATE = "the same question as {other!r}"
WORDING_NEAR_DUPLICATE = "nearly the same question as {other!r} (similarity {ratio:.2f})"
WORDING_NO_END_LABELS = ("the {low}-{high} scale has no end labels: respondents must guess which end is good; "
                         "label both ends")

# Changes between two definitions (survey/definitions/changes.py): what changed, and what it means for trends
CHANGE_ADDED = "question {key!r} added"
CHANGE_REMOVED = "question {key!r} removed"
CHANGE_REWORDED = "question {key!r} reworded [{language}]: {old!r} -> {new!r}"
CHANGE_HELP = "help text of {key!r} changed"
CHANGE_KIND = "question {key!r} changed from {old} to {new}"
CHANGE_SCALE = "scale of {key!r} changed from {old} to {new}"
CHANGE_END_LABELS = "end labels of {key!r} changed"
CHANGE_CHOICES = "{what} of {key!r} changed (added: {added}; removed: {removed})"
CHANGE_CONDITION = "display condition of {key!r} changed from {old} to {new}"
CHANGE_REQUIRED = "question {key!r} is now {state}"
CHANGE_ORDER = "question order changed"
CHANGE_SURVEY_FIELD = "survey {field} changed"
TREND_ADDED = "{key!r} has no trend before the new version: its series starts there"
TREND_REMOVED = "the trend of {key!r} ends with the current version; its earlier answers stay"
TREND_REWORDED = ("{key!r} is reworded: answers before and after may not be comparable; read its trend across "
                  "the version change with care")
TREND_SCALE = "a changed scale breaks the trend of {key!r}: versions are shown separately"
TREND_KIND = "{key!r} now feeds a different metric: its trend breaks at the new version"
TREND_CHOICES = "changed {what} break the trend of {key!r}: shares before and after are not comparable"
TREND_CONDITION = "{key!r} is now asked of other respondents: its trend compares different groups"
TREND_END_LABELS = "relabelled scale ends can shift answers to {key!r}: read its trend with care"
TREND_ORDER = "a new question order can shift answers slightly (order effects)"

# Designer page uploads
UPLOAD_UNKNOWN_TYPE = "{source}: upload a .yaml/.yml definition or an XLSForm (.xlsx, .xls, .csv or .md)"

# Publishing and storage
UNKNOWN_SURVEY = "no survey with slug {slug!r}"
ANONYMITY_INVITED = ("survey {slug!r} has personal invitations: it cannot become anonymous, since their links "
                     "would tie answers to customers (publish it under a new slug instead)")
ANONYMITY_FIXED = ("survey {slug!r} has responses: whether it is anonymous cannot change any more "
                   "(publish it under a new slug instead)")

# CSV imports
CSV_MISSING_COLUMNS = "{source}: missing column(s): {columns} (read as {delimiter}-separated, the header names: {found})"
CSV_MALFORMED = ("{source}: row {row} ({lines}): not a valid CSV row: {problem} "
                 "(a quote must close its cell, and a quoted cell must end at a delimiter)")
CSV_HEADER_EMPTY = ("{source}: row 1, column {position}: the header names no column here "
                    "(read as {delimiter}-separated); every column needs a name")
CSV_HEADER_DUPLICATE = ("{source}: row 1, column {position}: the header names {column!r} again "
                        "(first in column {first}); each column may appear once")
CSV_HEADER_NUL = "{source}: row 1, column {position}: the column name contains a NUL character (U+0000)"
CSV_ROW_WIDTH = "{cells} cells, but the header names {columns} columns (read as {delimiter}-separated)"
CSV_NUL = "contains a NUL character (U+0000), which cannot be stored"
CSV_EMPTY = "{source}: the file has no data rows"
CSV_BAD_VALUE = "{source}: row {row}, column {column!r}: {problem}"

# Customer events (survey/retention/events.py): the CSV import and the API share these
EVENT_DUPLICATE_ID = "event id {ref!r} appears more than once (first at {first})"
EVENT_CONFLICT = "event id {ref!r} is already stored with other content; an event is never overwritten"
EVENT_UNKNOWN_CUSTOMER = "no customer with reference {ref!r} (import customers first)"
EVENT_UNKNOWN_KIND = "{value!r} is not a kind of event (expected one of: {kinds})"
EVENT_UNKNOWN_REASON = "{value!r} is not a reason for leaving (expected one of: {reasons})"
EVENT_REASON_REQUIRED = "a defection needs a reason (one of: {reasons})"
EVENT_ONLY_DEFECTIONS = "only a defection has a {what}"
EVENT_NO_VALUE_FOR_DEFECTION = "a defection has no value (the value belongs to purchases and renewals)"
EVENT_FUTURE_DATE = "{value} is in the future"
EVENT_TOO_OLD = "{value} is before {earliest}"
EVENT_NOT_TEXT = "must be a string, got {type}"
EVENT_NOT_NUMBER = "must be a number, got {type}"
API_EVENTS_SHAPE = "the body must be an object with 'events': a list of 1 to {limit} event objects"
API_EVENT_NOT_OBJECT = "events[{index}] must be an object"
API_EVENT_UNKNOWN_FIELD = "unknown field {name!r} (expected: {fields})"

SETTING_BAD_REASONS = "{name}: {value!r} must be a comma-separated list of reasons of at most 50 characters each"

# XLSForm
# `where` is "<file>, <sheet> sheet, row <n>" so every row-level message names file, sheet and row.
XLSFORM_NOT_FOUND = "{source}: no such file"
XLSFORM_UNREADABLE = "{source}: cannot read the form: {problem}"
XLSFORM_REJECTED = "{source}: pyxform rejects the form: {problem}"
XLSFORM_PYXFORM_FAILED = "{source}: pyxform cannot convert the form ({problem})"
XLSFORM_NOTHING_TO_IMPORT = "{source}, survey sheet: no row holds a question that can be imported"
XLSFORM_UNSUPPORTED_TYPE = "{where}: {type!r} question {name!r} cannot be represented in this toolkit; skipped"
XLSFORM_NOT_A_QUESTION = "{where}: {type!r} row {name!r} is not a question asked of the respondent; skipped"
XLSFORM_REPEAT_ONCE = ("{where}: repeat {name!r} cannot repeat here (a survey asks each question once); "
                       "its {count} question(s) are asked once, for the first repetition only: {names}")
XLSFORM_UNKNOWN_METRIC = "{where}: unknown metric {metric!r} (expected one of: {metrics})"
XLSFORM_METRIC_NOT_A_SCALE = ("{where}: the metric column applies to integer, range and select_one questions "
                              "whose choices are consecutive whole numbers, not to {type!r}")
XLSFORM_LABEL_PAIR = "{where}: min_label and max_label go together; only {given} is given for language {language!r}"
XLSFORM_REQUIRED_EXPRESSION = ("{where}: required {value!r} is an expression, which cannot be represented; "
                               "{name!r} is imported as optional")
XLSFORM_BAD_RELEVANT = "{where}: relevant {expression!r} of {name!r} cannot be read ({problem}); {name!r} skipped"
XLSFORM_GROUP_BAD_RELEVANT = ("{where}: relevant {expression!r} of group {name!r} cannot be read ({problem}); "
                              "its question(s) are skipped: {names}")
XLSFORM_CONDITION_ON_SKIPPED = ("{where}: the relevant of {name!r} refers to {target!r} (row {target_row}), "
                                "which was skipped; {name!r} skipped too")
XLSFORM_CONDITION_ON_LATER = ("{where}: the relevant of {name!r} refers to {target!r}, which is not an earlier "
                              "question; {name!r} skipped")
XLSFORM_CHOICE_FILTER = ("{where}: choice_filter {expression!r} of {name!r} cannot be represented; "
                         "every choice of the list is offered")
XLSFORM_CONSTRAINT_IGNORED = "{where}: constraint {expression!r} on {name!r} is not carried over and will not be enforced"
XLSFORM_OR_OTHER = ("{where}: {name!r} offers 'other'; its 'specify other' text is kept as question {other!r}, "
                    "shown when 'other' is chosen")
XLSFORM_RANGE_NOT_A_SCALE = ("{where}: range {name!r} ({start} to {end} by {step}) is not a whole-number scale "
                             "with step 1; imported as a decimal question without bounds")
XLSFORM_RENAMED = "{where}: name {name!r} is not a valid question key; imported as {key!r}"
XLSFORM_TRANSLATION_FALLBACK = ("{where}: {what} has no text in language {language!r}; "
                                "the {fallback!r} text is used")
XLSFORM_NO_LABEL = "{where}: {name!r} has no label; its {used} is used as its text"
XLSFORM_DUPLICATE_CHOICE = "{where}: choice {name!r} appears twice in list {list!r}; the second is dropped"
XLSFORM_BAD_FORM_ID = "{where}: form_id {form_id!r} is not a valid survey slug; using {slug!r}"
XLSFORM_PIPE_DROPPED = ("{where}: the {what} shows ${{{target}}}, which is not an earlier question kept here; "
                        "it is shown as '...'")
XLSFORM_METRIC_PROPOSED = ("{where}: {name!r} looks like {label} question ({reason}); to declare it, put "
                           "{metric!r} in the metric column of this row")
XLSFORM_METRIC_ACCEPTED = "{where}: {name!r} declared as {metric!r}, as proposed ({reason})"

# Sign-in (survey/people/accounts.py): the same texts whether the email has an account or not
SIGN_IN_FAILED = "The email or password is wrong."
SIGN_IN_WAIT = "Too many failed sign-ins: wait {seconds} second(s), then try again."
SESSION_BAD_CODE = "code: unknown, already used or expired; sign in again."
SESSION_POST_ONLY = "method: use POST to take a session."

# Settings (environment variables)
SETTING_NOT_A_NUMBER = "{name}={value!r}: expected a whole number of at least {minimum}"
SETTING_NOT_A_POSITIVE_NUMBER = "{name}={value!r}: expected a positive number"
SETTING_RESPONDENT_FORM = "SURVEY_RESPONDENT_FORM={value!r}: expected html or streamlit"
SETTING_BAD_PORT = "{name}={value!r}: expected a port number between 1 and 65535"
SETTING_BAD_CHOICE = "{name}={value!r}: expected one of {choices}"
SETTING_BAD_URL = "{name}={value!r}: expected an http:// or https:// URL"

# SMTP
SMTP_BAD_SECURITY = "SMTP security {value!r} is not one of {modes}"
SMTP_NO_HOST = "no SMTP server configured: set SURVEY_SMTP_HOST (and SURVEY_SMTP_PORT, SURVEY_SMTP_SECURITY)"
SMTP_NO_SENDER = "no sender address configured: set SURVEY_SMTP_FROM"
SMTP_CANNOT_CONNECT = "cannot connect to the SMTP server {address}: {problem}"
SMTP_LOGIN_FAILED = "the SMTP server {address} refused the sign-in of user {user!r}: {problem}"
SMTP_SENDER_REFUSED = "the SMTP server {address} refused the sender {sender!r}: {problem}"
SMTP_SEND_FAILED = "sending through the SMTP server {address} failed: {problem}"

# Invitations
INVITATION_UNKNOWN_FILTER = "unknown invitation filter {key!r} (expected one of: {known})"
INVITATION_EMPTY_FILTER = "invitation filter {key!r} has no values"
INVITATION_UNKNOWN_CHANNEL = "unknown invitation channel {channel!r} (expected one of: {channels})"
INVITATION_ANONYMOUS = ("survey {slug!r} is anonymous: it cannot have personal invitations, which would link "
                        "a person to their answers; share its open link instead")
INVITATION_CLOSED = "survey {slug!r} is closed: it takes no new invitations"
INVITATION_NOT_PUBLISHED = "survey {slug!r} has no published version"
INVITATION_BAD_DAYS = "{name} must be a whole number of at least {minimum}, got {value!r}"

# Invitation emails: {name}, {title}, {intro}, {link}, {expires} per language; English when the
# invitation's language has no wording here.
INVITATION_EMAIL_TEXT = {
    "en": ("Hello {name},\n\n{intro}"
           "Please tell us what you think in the survey \"{title}\", through your personal link:\n\n"
           "{link}\n\n"
           "The link is personal, please do not forward it. It is valid until {expires}.\n\n"
           "Thank you.\n"),
    "fr": ("Bonjour {name},\n\n{intro}"
           "Merci de nous donner votre avis dans le questionnaire « {title} », par votre lien personnel :\n\n"
           "{link}\n\n"
           "Ce lien vous est personnel, merci de ne pas le transférer. Il est valable jusqu'au {expires}.\n\n"
           "Merci.\n"),
}

# Respondent web form (survey/collection/form/, survey/collection/respondent.py, app_pages/respond.py)
# The one catalogue of the words around the questions, per language a survey may declare. Every
# language holds every phrase (tests/collection/test_form_language.py checks it), so a French survey
# shows no English word; a language outside the catalogue falls back to English.
# Each language's own name, for the form's language choice (a respondent looks for their language's name).
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "it": "Italiano",
                  "nl": "Nederlands", "pt": "Português"}
RESPONDENT_PHRASES = {
    "en": {
        "language": "Language",
        "required": "(required)",
        "scale_ends": "{low_point} = {low} · {high_point} = {high}",
        "scale_point": "{point}, {label}",
        "text_limit": "Up to {limit} characters.",
        "choose": "Choose one or more",
        "draft_notice": "Your answers are kept as you go: you can leave and come back to this link later.",
        "submit": "Submit",
        "next": "Next",
        "back": "Back",
        "progress": "Step {step} of {total}",
        "fix_problems": "Some answers need your attention: see the messages next to the questions above.",
        "problem_summary": "Some answers need your attention:",
        "form_expired": "This page was open for a long time. Your answers are still here: please press the button again.",
        "too_many_requests": "Too many attempts from your network just now. Please wait a minute and try again.",
        "too_large": "Your answers are too long to send. Please shorten your text and try again.",
        "save_failed": "Your answers could not be saved just now. Please try again in a moment; "
                       "nothing you entered is lost.",
        "unavailable": "The survey is unavailable right now. Please try again later.",
        "thank_you": "Thank you for your answers.",
        "already_answered": "You already answered this survey on {date}. Thank you!",
        "answer_again": "Someone else answering on this device? Start a new answer",
        "expired": "This survey link expired on {date}. Thank you for your interest.",
        "closed": "This survey is closed and no longer accepts answers. Thank you for your interest.",
        "unknown": "We could not find a survey for this link. Please check that you opened the "
                   "complete link from your invitation.",
        "not_open_link": "This survey can only be answered from your personal invitation link. "
                         "Please open the link from your invitation.",
    },
    "fr": {
        "language": "Langue",
        "required": "(obligatoire)",
        "scale_ends": "{low_point} = {low} · {high_point} = {high}",
        "scale_point": "{point}, {label}",
        "text_limit": "{limit} caractères au maximum.",
        "choose": "Choisissez une ou plusieurs réponses",
        "draft_notice": "Vos réponses sont conservées au fur et à mesure : vous pouvez partir et revenir "
                        "plus tard avec ce lien.",
        "submit": "Envoyer",
        "next": "Suivant",
        "back": "Retour",
        "progress": "Étape {step} sur {total}",
        "fix_problems": "Certaines réponses demandent votre attention : voir les messages près des questions.",
        "problem_summary": "Certaines réponses demandent votre attention :",
        "form_expired": "Cette page est restée ouverte longtemps. Vos réponses sont toujours là : "
                        "appuyez à nouveau sur le bouton.",
        "too_many_requests": "Trop de tentatives depuis votre réseau à l'instant. Patientez une minute puis réessayez.",
        "too_large": "Vos réponses sont trop longues pour être envoyées. Raccourcissez votre texte puis réessayez.",
        "save_failed": "Vos réponses n'ont pas pu être enregistrées pour l'instant. Réessayez dans un "
                       "moment ; rien de ce que vous avez saisi n'est perdu.",
        "unavailable": "Le questionnaire est indisponible pour le moment. Réessayez plus tard.",
        "thank_you": "Merci pour vos réponses.",
        "already_answered": "Vous avez déjà répondu à ce questionnaire le {date}. Merci !",
        "answer_again": "Quelqu'un d'autre répond sur cet appareil ? Commencer une nouvelle réponse",
        "expired": "Ce lien a expiré le {date}. Merci de votre intérêt.",
        "closed": "Ce questionnaire est clos et n'accepte plus de réponses. Merci de votre intérêt.",
        "unknown": "Nous n'avons pas trouvé de questionnaire pour ce lien. Vérifiez que vous avez ouvert "
                   "le lien complet de votre invitation.",
        "not_open_link": "Ce questionnaire ne peut être rempli qu'avec le lien personnel de votre invitation.",
    },
    "de": {
        "language": "Sprache",
        "required": "(Pflichtfeld)",
        "scale_ends": "{low_point} = {low} · {high_point} = {high}",
        "scale_point": "{point}, {label}",
        "text_limit": "Höchstens {limit} Zeichen.",
        "choose": "Wählen Sie eine oder mehrere Antworten",
        "draft_notice": "Ihre Antworten werden laufend gespeichert: Sie können den Fragebogen verlassen und "
                        "später über diesen Link fortsetzen.",
        "submit": "Absenden",
        "next": "Weiter",
        "back": "Zurück",
        "progress": "Schritt {step} von {total}",
        "fix_problems": "Einige Antworten brauchen Ihre Aufmerksamkeit: siehe die Hinweise bei den Fragen.",
        "problem_summary": "Einige Antworten brauchen Ihre Aufmerksamkeit:",
        "form_expired": "Diese Seite war lange geöffnet. Ihre Antworten sind noch da: "
                        "bitte drücken Sie die Schaltfläche erneut.",
        "too_many_requests": "Gerade kamen zu viele Versuche aus Ihrem Netzwerk. Bitte warten Sie eine Minute "
                             "und versuchen Sie es erneut.",
        "too_large": "Ihre Antworten sind zu lang zum Senden. Bitte kürzen Sie Ihren Text und versuchen Sie es erneut.",
        "save_failed": "Ihre Antworten konnten gerade nicht gespeichert werden. Bitte versuchen Sie es gleich "
                       "noch einmal; nichts von Ihren Eingaben geht verloren.",
        "unavailable": "Der Fragebogen ist im Moment nicht verfügbar. Bitte versuchen Sie es später erneut.",
        "thank_you": "Vielen Dank für Ihre Antworten.",
        "already_answered": "Sie haben diesen Fragebogen bereits am {date} beantwortet. Vielen Dank!",
        "answer_again": "Antwortet jemand anderes auf diesem Gerät? Neue Antwort beginnen",
        "expired": "Dieser Link ist am {date} abgelaufen. Vielen Dank für Ihr Interesse.",
        "closed": "Dieser Fragebogen ist geschlossen und nimmt keine Antworten mehr an. Vielen Dank für Ihr Interesse.",
        "unknown": "Zu diesem Link gibt es keinen Fragebogen. Bitte prüfen Sie, ob Sie den vollständigen "
                   "Link aus Ihrer Einladung geöffnet haben.",
        "not_open_link": "Dieser Fragebogen kann nur über Ihren persönlichen Einladungslink beantwortet werden. "
                         "Bitte öffnen Sie den Link aus Ihrer Einladung.",
    },
    "es": {
        "language": "Idioma",
        "required": "(obligatoria)",
        "scale_ends": "{low_point} = {low} · {high_point} = {high}",
        "scale_point": "{point}, {label}",
        "text_limit": "Hasta {limit} caracteres.",
        "choose": "Elija una o varias respuestas",
        "draft_notice": "Sus respuestas se guardan sobre la marcha: puede salir y volver más tarde con este enlace.",
        "submit": "Enviar",
        "next": "Siguiente",
        "back": "Atrás",
        "progress": "Paso {step} de {total}",
        "fix_problems": "Algunas respuestas requieren su atención: vea los mensajes junto a las preguntas.",
        "problem_summary": "Algunas respuestas requieren su atención:",
        "form_expired": "Esta página estuvo abierta mucho tiempo. Sus respuestas siguen aquí: "
                        "pulse el botón de nuevo.",
        "too_many_requests": "Demasiados intentos desde su red en este momento. Espere un minuto y vuelva a intentarlo.",
        "too_large": "Sus respuestas son demasiado largas para enviarlas. Acorte su texto y vuelva a intentarlo.",
        "save_failed": "No se pudieron guardar sus respuestas en este momento. Vuelva a intentarlo en un "
                       "momento; no se pierde nada de lo que escribió.",
        "unavailable": "La encuesta no está disponible en este momento. Vuelva a intentarlo más tarde.",
        "thank_you": "Gracias por sus respuestas.",
        "already_answered": "Ya respondió a esta encuesta el {date}. ¡Gracias!",
        "answer_again": "¿Otra persona responde en este dispositivo? Empezar una nueva respuesta",
        "expired": "Este enlace caducó el {date}. Gracias por su interés.",
        "closed": "Esta encuesta está cerrada y ya no acepta respuestas. Gracias por su interés.",
        "unknown": "No encontramos ninguna encuesta para este enlace. Compruebe que abrió el enlace "
                   "completo de su invitación.",
        "not_open_link": "Esta encuesta solo puede responderse desde el enlace personal de su invitación. "
                         "Abra el enlace de su invitación.",
    },
    "nl": {
        "language": "Taal",
        "required": "(verplicht)",
        "scale_ends": "{low_point} = {low} · {high_point} = {high}",
        "scale_point": "{point}, {label}",
        "text_limit": "Maximaal {limit} tekens.",
        "choose": "Kies een of meer antwoorden",
        "draft_notice": "Uw antwoorden worden onderweg bewaard: u kunt stoppen en later via deze link verdergaan.",
        "submit": "Versturen",
        "next": "Volgende",
        "back": "Terug",
        "progress": "Stap {step} van {total}",
        "fix_problems": "Sommige antwoorden vragen uw aandacht: zie de meldingen bij de vragen.",
        "problem_summary": "Sommige antwoorden vragen uw aandacht:",
        "form_expired": "Deze pagina stond lang open. Uw antwoorden zijn er nog: druk nogmaals op de knop.",
        "too_many_requests": "Te veel pogingen vanaf uw netwerk op dit moment. Wacht een minuut en probeer het opnieuw.",
        "too_large": "Uw antwoorden zijn te lang om te versturen. Maak uw tekst korter en probeer het opnieuw.",
        "save_failed": "Uw antwoorden konden nu niet worden opgeslagen. Probeer het zo opnieuw; "
                       "niets van wat u invulde gaat verloren.",
        "unavailable": "De vragenlijst is op dit moment niet beschikbaar. Probeer het later opnieuw.",
        "thank_you": "Bedankt voor uw antwoorden.",
        "already_answered": "U hebt deze vragenlijst al beantwoord op {date}. Bedankt!",
        "answer_again": "Beantwoordt iemand anders op dit apparaat? Begin een nieuw antwoord",
        "expired": "Deze link is verlopen op {date}. Bedankt voor uw interesse.",
        "closed": "Deze vragenlijst is gesloten en neemt geen antwoorden meer aan. Bedankt voor uw interesse.",
        "unknown": "Voor deze link vonden we geen vragenlijst. Controleer of u de volledige link uit uw "
                   "uitnodiging hebt geopend.",
        "not_open_link": "Deze vragenlijst kan alleen via uw persoonlijke uitnodigingslink worden beantwoord. "
                         "Open de link uit uw uitnodiging.",
    },
}
# Problems survey/collection/collect.py reports, by their code, per language; `invalid` stands for a
# code without its own phrase, so a respondent never sees the rule book's English.
RESPONDENT_PROBLEMS = {
    "en": {
        "required": "An answer is required.",
        "incomplete": "Every row needs a rating.",
        "not_integer": "Please enter a whole number.",
        "out_of_range": "Please choose a point on the scale.",
        "not_number": "Please enter a number.",
        "not_date": "Please enter a date.",
        "not_time": "Please enter a time of day.",
        "not_a_choice": "Please choose one of the answers shown.",
        "too_long": "This answer is too long.",
        "invalid_characters": "This answer holds characters that cannot be stored.",
        "unknown_attribute": "This row is not part of the question.",
        "wrong_type": "This answer does not fit the question.",
        "invalid": "This answer cannot be accepted.",
    },
    "fr": {
        "required": "Une réponse est obligatoire.",
        "incomplete": "Chaque ligne demande une note.",
        "not_integer": "Saisissez un nombre entier.",
        "out_of_range": "Choisissez un point de l'échelle.",
        "not_number": "Saisissez un nombre.",
        "not_date": "Saisissez une date.",
        "not_time": "Saisissez une heure.",
        "not_a_choice": "Choisissez l'une des réponses proposées.",
        "too_long": "Cette réponse est trop longue.",
        "invalid_characters": "Cette réponse contient des caractères impossibles à enregistrer.",
        "unknown_attribute": "Cette ligne ne fait pas partie de la question.",
        "wrong_type": "Cette réponse ne correspond pas à la question.",
        "invalid": "Cette réponse ne peut pas être acceptée.",
    },
    "de": {
        "required": "Eine Antwort ist erforderlich.",
        "incomplete": "Jede Zeile braucht eine Bewertung.",
        "not_integer": "Bitte geben Sie eine ganze Zahl ein.",
        "out_of_range": "Bitte wählen Sie einen Punkt der Skala.",
        "not_number": "Bitte geben Sie eine Zahl ein.",
        "not_date": "Bitte geben Sie ein Datum ein.",
        "not_time": "Bitte geben Sie eine Uhrzeit ein.",
        "not_a_choice": "Bitte wählen Sie eine der angezeigten Antworten.",
        "too_long": "Diese Antwort ist zu lang.",
        "invalid_characters": "Diese Antwort enthält Zeichen, die nicht gespeichert werden können.",
        "unknown_attribute": "Diese Zeile gehört nicht zur Frage.",
        "wrong_type": "Diese Antwort passt nicht zur Frage.",
        "invalid": "Diese Antwort kann nicht angenommen werden.",
    },
    "es": {
        "required": "Se necesita una respuesta.",
        "incomplete": "Cada fila necesita una valoración.",
        "not_integer": "Escriba un número entero.",
        "out_of_range": "Elija un punto de la escala.",
        "not_number": "Escriba un número.",
        "not_date": "Escriba una fecha.",
        "not_time": "Escriba una hora.",
        "not_a_choice": "Elija una de las respuestas mostradas.",
        "too_long": "Esta respuesta es demasiado larga.",
        "invalid_characters": "Esta respuesta contiene caracteres que no se pueden guardar.",
        "unknown_attribute": "Esta fila no forma parte de la pregunta.",
        "wrong_type": "Esta respuesta no corresponde a la pregunta.",
        "invalid": "Esta respuesta no se puede aceptar.",
    },
    "nl": {
        "required": "Een antwoord is verplicht.",
        "incomplete": "Elke rij heeft een score nodig.",
        "not_integer": "Vul een geheel getal in.",
        "out_of_range": "Kies een punt op de schaal.",
        "not_number": "Vul een getal in.",
        "not_date": "Vul een datum in.",
        "not_time": "Vul een tijdstip in.",
        "not_a_choice": "Kies een van de getoonde antwoorden.",
        "too_long": "Dit antwoord is te lang.",
        "invalid_characters": "Dit antwoord bevat tekens die niet kunnen worden opgeslagen.",
        "unknown_attribute": "Deze rij hoort niet bij de vraag.",
        "wrong_type": "Dit antwoord past niet bij de vraag.",
        "invalid": "Dit antwoord kan niet worden aanvaard.",
    },
}

# API keys and the JSON API (survey/collection/apikeys.py, survey/collection/api.py). `field` names the body field at fault.
API_KEY_NAME_REQUIRED = "an API key needs a name saying who uses it (e.g. 'kiosk in Lyon')"
API_KEY_NAME_TOO_LONG = "an API key name is at most {limit} characters"
API_KEY_UNKNOWN = "no API key with prefix {prefix!r}"
API_KEY_MISSING = "an API key is required: send it in the X-API-Key header (or as Authorization: Bearer <key>)"
API_KEY_INVALID = "the API key is not valid (unknown, mistyped or revoked)"
API_NOT_FOUND = "no API endpoint at {path}"
API_METHOD_NOT_ALLOWED = "{method} is not allowed here; use {allowed}"
API_UNSUPPORTED_MEDIA_TYPE = "the body must be JSON sent with Content-Type: application/json (UTF-8), not {content_type!r}"
API_BAD_CONTENT_LENGTH = "the Content-Length header {value!r} is not a number of bytes"
API_BODY_TOO_LARGE = "the body is larger than the limit of {limit} bytes"
API_BODY_TIMEOUT = "the body did not arrive within {seconds} seconds"
API_RATE_LIMITED = "too many requests with this {what}; retry in {seconds} second(s)"
API_BODY_NOT_UTF8 = "the body is not UTF-8 text"
API_BODY_NOT_JSON = "the body is not valid JSON: {problem}"
API_BODY_TOO_DEEP = "the body nests arrays or objects too deeply"
API_BODY_DUPLICATE_NAME = "the body repeats the name {name!r} within one object"
API_BODY_NOT_OBJECT = "the body must be a JSON object with idempotency_key and answers"
API_UNKNOWN_SURVEY = "no survey {slug!r}"
API_SURVEY_CLOSED = "survey {slug!r} is closed and takes no more responses"
API_UNKNOWN_FIELD = "unknown field {field!r} (expected: {expected})"
API_FIELD_REQUIRED = "{field} is required"
API_FIELD_WRONG_TYPE = "{field} must be {expected}, not {actual}"
API_FIELD_TOO_LONG = "{field} is longer than {limit} characters"
API_FIELD_BLANK = "{field} must not be blank"
API_BAD_CHANNEL = "channel {value!r} must be 1-20 lowercase letters, digits, - or _, starting with a letter"
API_UNKNOWN_LANGUAGE = "language {value!r} is not one of this survey's languages ({languages})"
API_NUL_CHARACTER = "{field} contains a NUL character (U+0000), which cannot be stored"
API_LONE_SURROGATE = "{field} contains a lone surrogate (U+D800-U+DFFF), which is not a character"
API_ANSWER_WRONG_TYPE = "expected {expected}, got {actual}"
API_UNKNOWN_TOKEN = "no invitation to this survey has this token"
API_TOKEN_EXPIRED = "the invitation expired at {expires}"
API_ALREADY_ANSWERED = "this invitation has already been answered"
API_UNKNOWN_CUSTOMER = "no customer with external_ref {ref!r}"
API_CUSTOMER_MISMATCH = "customer_ref {ref!r} is not the customer this invitation was sent to"
API_IDEMPOTENCY_CONFLICT = "idempotency key {key!r} was already used for a different response"
API_DATABASE_BUSY = "the database is busy or unavailable; retry in a moment with the same idempotency key"
API_INTERNAL_ERROR = "an unexpected error; retry with the same idempotency key (nothing is stored twice)"

# Response exports (survey/response_export.py)
EXPORT_BAD_FORMAT = "format: {format!r} is not an export format (expected one of: {formats})"
EXPORT_NO_SURVEY = "survey: no survey {slug!r}"
EXPORT_NO_VERSION = "survey: it has no published version to export"
EXPORT_NO_SUCH_VERSION = "version: survey {slug!r} has no version {version} (its versions: {versions})"
EXPORT_NO_FOLDER = "out: no such folder {folder}"
EXPORT_BAD_DATES = "since: {since} is after until: {until}"

# Webhooks (survey/integrations/)
WEBHOOK_BAD_URL = "url: {url!r} must be an http:// or https:// address with a host"
WEBHOOK_NO_EVENTS = "events: name at least one event ({events})"
WEBHOOK_UNKNOWN_EVENT = "events: {event!r} is not an event (expected one of: {events})"
WEBHOOK_UNKNOWN = "webhook: no webhook with id {id}"
WEBHOOK_UNKNOWN_DELIVERY = "delivery: no delivery with id {id}"

# Reminders (survey/collection/reminders.py)
REMINDER_BAD_AFTER_DAYS = "--after-days: must be at least 1, got {value}"
REMINDER_BAD_MAX = "--max: must be at least 1, got {value}"
