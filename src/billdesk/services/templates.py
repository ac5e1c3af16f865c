"""Email templates (E1): plain-text Jinja2, rendered in Jinja's sandbox.

A template is identified by its name. The built-in ones are named after
their kind (``invoice_created``, ``overdue_1``, …) and ship as defaults in
``resources/email_templates/<language>/<name>.txt`` (a first line
``Subject: …``, a blank line, then the body). A row in ``email_template``
overrides the default; custom templates (kind ``custom``) exist only as
rows. Lookup for a client's language: the row in that language, the
English row, the shipped default in that language, the English default.

Safety (the owner types these, but a template is code): every template is
checked before it is saved and again before it is rendered — the parsed
template is walked and anything that reaches for Python internals
(``_``-names, ``mro``, ``|attr``, ``self``, ``lipsum``/``cycler``/
``joiner``/``namespace``, includes) is refused with InvalidInput naming
the field, never executed. Rendering runs in
``jinja2.sandbox.ImmutableSandboxedEnvironment`` with no globals, and an
unsafe access that only shows at run time raises instead of rendering
as empty text. Unknown placeholders are refused on save, by name."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from billdesk.errors import Conflict, InvalidInput, NotFound, Problem, ValidationFailed
from billdesk.models import EMAIL_CATEGORIES, EMAIL_TEMPLATE_KINDS, EmailTemplate, database, now
from billdesk.services import validate

KINDS = EMAIL_TEMPLATE_KINDS
BUILT_IN = tuple(kind for kind in KINDS if kind != "custom")
DEFAULT_CATEGORY: dict[str, str] = {
    "welcome": "general", "invoice_created": "invoice", "payment_reminder": "invoice",
    "overdue_1": "invoice", "overdue_2": "invoice", "overdue_3": "invoice",
    "payment_confirmation": "invoice", "credit_added": "invoice", "quote_delivered": "invoice",
    "statement": "invoice", "general": "general", "custom": "general",
}
KIND_LABELS = {
    "welcome": "Welcome", "invoice_created": "Invoice created",
    "payment_reminder": "Payment reminder", "overdue_1": "First overdue notice",
    "overdue_2": "Second overdue notice", "overdue_3": "Third overdue notice",
    "payment_confirmation": "Payment confirmation", "credit_added": "Credit added",
    "quote_delivered": "Quote delivered", "statement": "Account statement",
    "general": "General message", "custom": "Custom",
}
FALLBACK_LANGUAGE = "en"
MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_NAME = 100
_NAME = re.compile(r"^[\w][\w .\-]*$")


# --- what a template may use ---------------------------------------------
# Each top-level placeholder with its fields; a list holds its items' fields.
# The same table gives placeholders() (shown on the settings page), the
# sample context templates are checked against on save, and the static
# check of ``{{ client.first_name }}``-style paths.

_LINE = {"description": "Web hosting (1 Jan 2026 - 31 Jan 2026)", "amount": "£10.00"}
SCHEMA: dict[str, Any] = {
    "client": {
        "id": "1", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace",
        "company": "Analytical Ltd", "email": "ada@example.com", "phone": "+44 20 7946 0000",
        "address": "1 High Street\nBath BA1 1AA\nUnited Kingdom", "address1": "1 High Street",
        "address2": "", "city": "Bath", "state": "", "postcode": "BA1 1AA",
        "country": "United Kingdom", "country_code": "GB", "currency": "GBP", "language": "en",
        "status": "Active", "credit_balance": "£0.00",
    },
    "contact": {"first_name": "Grace", "last_name": "Hopper", "name": "Grace Hopper",
                "email": "grace@example.com", "company": "", "phone": ""},
    "company": {"name": "Harbour Light Studio", "email": "accounts@example.com",
                "phone": "+44 117 496 0000", "address": "12 Quay Street\nBristol BS1 4RN",
                "tax_id": "GB123456789"},
    "invoice": {
        "id": "7", "number": "INV-2026-00007", "date": "1 Jan 2026", "due_date": "15 Jan 2026",
        "paid_date": "", "status": "Unpaid", "payment_method": "Bank transfer",
        "subtotal": "£10.00", "tax": "£2.00", "total": "£12.00", "credit": "£0.00",
        "paid": "£0.00", "balance": "£12.00", "currency": "GBP", "notes": "",
        "has_tax": True, "has_payments": False, "lines": [_LINE],
    },
    "quote": {
        "id": "3", "number": "3", "subject": "New website", "stage": "Delivered",
        "date": "1 Jan 2026", "valid_until": "31 Jan 2026", "subtotal": "£10.00", "tax": "£2.00",
        "total": "£12.00", "currency": "GBP", "proposal": "", "notes": "", "lines": [_LINE],
    },
    "service": {"id": "5", "name": "Web hosting", "label": "example.com", "kind": "service",
                "status": "Active", "cycle": "monthly", "amount": "£10.00",
                "next_due": "1 Feb 2026"},
    "payment": {"id": "9", "amount": "£12.00", "date": "10 Jan 2026", "method": "Bank transfer",
                "reference": "REF-1"},
    "credit": {"amount": "£25.00", "description": "Goodwill credit", "balance": "£25.00"},
    "statement": {"start": "1 Jan 2026", "end": "31 Jan 2026", "balance": "£12.00"},
    "days_overdue": "3",
    "today": "10 Jan 2026",
}


def placeholders() -> dict[str, list[str]]:
    """What a template may use: ``{"client": ["first_name", …],
    "invoice.lines": ["description", "amount"], "days_overdue": [], …}``."""
    out: dict[str, list[str]] = {}
    for name, value in SCHEMA.items():
        if isinstance(value, dict):
            out[name] = list(value)
            for key, item in value.items():
                if isinstance(item, list):
                    out[f"{name}.{key}"] = list(item[0])
        else:
            out[name] = []
    return out


def sample_context() -> dict[str, Any]:
    """Example values for every placeholder (previews, the save check)."""
    def copy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: copy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [copy(v) for v in value]
        return value

    return copy(SCHEMA)


# --- the sandbox ------------------------------------------------------------

FORBIDDEN_NAMES = frozenset({"self", "lipsum", "cycler", "joiner", "namespace", "range", "dict",
                             "caller", "varargs", "kwargs", "config", "request", "globals"})
FORBIDDEN_ATTRIBUTES = frozenset({"mro", "format", "format_map", "func_globals", "gi_frame",
                                  "gi_code", "cr_frame", "f_globals", "f_locals", "f_builtins"})
FORBIDDEN_FILTERS = frozenset({"attr"})
# Types whose items templates read as attributes without further checks:
# plain data (mail.py registers its placeholder object here).
_DATA_TYPES: set[type] = set()


def register_data_type(kind: type) -> type:
    """Mark a dict subclass of plain data (str, numbers, lists, more of
    the same) as read directly by key: ``{{ client.first_name }}``."""
    if not issubclass(kind, dict):
        raise TypeError("only dict subclasses hold placeholder data")
    _DATA_TYPES.add(kind)
    return kind


_MAX_REPEAT = 100_000  # the longest text ``*`` may build


class _InlineReads(CodeGenerator):
    """``{{ invoice.number }}`` compiled to read a placeholder object's key
    in place — what ``_Sandbox.getattr`` does first, without a call per
    read (a bulk run renders tens of thousands of emails) — and to call
    the sandbox's ``getattr`` for anything else, exactly as before. Only
    for a name's attribute (``invoice.number``, ``line.amount``) whose name
    has no leading underscore; every other read is compiled as Jinja does."""

    def visit_Getattr(self, node: nodes.Getattr, frame: Any) -> None:
        if (self.environment.is_async or node.attr[:1] == "_"
                or not isinstance(node.node, nodes.Name) or node.node.ctx != "load"):
            super().visit_Getattr(node, frame)
            return
        self.write("")  # (any pending line break goes to the real stream first)
        stream, self.stream = self.stream, StringIO()
        try:
            self.visit(node.node, frame)
            obj = self.stream.getvalue()
        finally:
            self.stream = stream
        key = repr(node.attr)
        self.write(f"({obj}[{key}] if type({obj}) in environment.data_types and {key} in {obj} "
                   f"else environment.getattr({obj}, {key}))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals, plain text, unsafe access raises (never renders as "")."""

    intercepted_binops = frozenset({"*", "**"})
    code_generator_class = _InlineReads
    data_types = _DATA_TYPES  # (read by the compiled templates)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Placeholder objects (services/mail.py) hold plain data: a key is
        # read directly; anything else takes the sandbox's checked path.
        if type(obj) in _DATA_TYPES and attribute[:1] != "_":
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if (type(obj) in _DATA_TYPES and type(argument) is str and argument in obj
                and argument[:1] != "_"):
            return obj[argument]
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or attr in FORBIDDEN_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"{attribute!r} of a {type(obj).__name__} may not be used")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int) and abs(right) > 100:
                raise SecurityError("exponent too large")
            return left ** right
        if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            times = right if isinstance(left, (str, list, tuple)) else left
            size = len(left if isinstance(left, (str, list, tuple)) else right)
            if isinstance(times, int) and times * max(size, 1) > _MAX_REPEAT:
                raise SecurityError("the text would be too long")
        return left * right


class _Lenient(ChainableUndefined):
    """At send time a missing value (no invoice on a welcome email) is
    empty text; an unsafe access never gets here (the sandbox raises)."""


class _Strict(StrictUndefined):
    """On save: an unknown placeholder is an error naming it."""


def _environment(undefined: type) -> _Sandbox:
    env = _Sandbox(autoescape=False, undefined=undefined, trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=False, auto_reload=False)
    env.globals.clear()
    return env


_RENDER_ENV = _environment(_Lenient)
_CHECK_ENV = _environment(_Strict)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    category: str


# --- the static check -------------------------------------------------------

def _refuse(field: str, message: str, lineno: int | None = None) -> InvalidInput:
    where = f" (line {lineno})" if lineno and field == "body" else ""
    return InvalidInput(field, message + where)


def _schema_at(node: nodes.Node, scope: Mapping[str, Any]) -> tuple[bool, Any]:
    """(known, schema) of an expression like ``invoice.lines``: known is
    False when it is not a placeholder path (a local variable, a call…)."""
    if isinstance(node, nodes.Name):
        if node.name in scope:
            return True, scope[node.name]
        return False, None
    if isinstance(node, nodes.Getattr):
        known, parent = _schema_at(node.node, scope)
        if known and isinstance(parent, dict):
            return (True, parent[node.attr]) if node.attr in parent else (True, _MISSING)
        return False, None
    return False, None


_MISSING = object()


def _path(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_path(node.node)}.{node.attr}"
    return "?"


def _walk(node: nodes.Node, field: str, scope: dict[str, Any]) -> None:
    """Refuse what reaches for Python internals; check placeholder paths
    against SCHEMA (``scope`` maps names to their schema; loop variables
    over ``invoice.lines`` get the line's)."""
    line = getattr(node, "lineno", None)
    if isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise _refuse(field, "may not be used: no including or importing other templates", line)
    if isinstance(node, nodes.Name):
        if node.name.startswith("_") or node.name in FORBIDDEN_NAMES:
            raise _refuse(field, f"{node.name!r} may not be used in an email template", line)
    elif isinstance(node, nodes.Getattr):
        if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
            raise _refuse(field, f"{node.attr!r} may not be used in an email template "
                                 "(no Python internals)", line)
        known, found = _schema_at(node, scope)
        if known and found is _MISSING:
            raise _refuse(field, f"unknown placeholder {_path(node)!r}", line)
    elif isinstance(node, nodes.Getitem):
        arg = node.arg
        if (isinstance(arg, nodes.Const) and isinstance(arg.value, str)
                and arg.value.startswith("_")):
            raise _refuse(field, f"{arg.value!r} may not be used in an email template "
                                 "(no Python internals)", line)
    elif isinstance(node, nodes.Const):
        if isinstance(node.value, str) and "__" in node.value:
            raise _refuse(field, f"{node.value!r}: names with '__' may not be used in an email "
                                 "template (no Python internals)", line)
    elif isinstance(node, (nodes.Filter, nodes.Test)):
        if node.name in FORBIDDEN_FILTERS:
            raise _refuse(field, f"the {node.name!r} filter may not be used in an email template",
                          line)
    if isinstance(node, nodes.For):
        # the loop runs with its target bound: ``line`` in invoice.lines
        _walk(node.iter, field, scope)
        known, found = _schema_at(node.iter, scope)
        inner = dict(scope)
        for target in node.target.find_all(nodes.Name) if not isinstance(
                node.target, nodes.Name) else [node.target]:
            _walk(target, field, scope)
            if known and isinstance(found, list) and isinstance(node.target, nodes.Name):
                inner[target.name] = found[0]
            else:
                inner.pop(target.name, None)
        for child in (*node.body, *node.else_):
            _walk(child, field, inner)
        if node.test is not None:
            _walk(node.test, field, inner)
        return
    if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
        # ``{% set client = … %}`` shadows a placeholder: no longer checked as one
        for target in node.target.find_all(nodes.Name) if not isinstance(
                node.target, nodes.Name) else [node.target]:
            if target.name.startswith("_") or target.name in FORBIDDEN_NAMES:
                raise _refuse(field, f"{target.name!r} may not be used in an email template",
                              line)
            scope.pop(target.name, None)
    for child in node.iter_child_nodes():
        _walk(child, field, scope)


def _parse(source: str, field: str) -> nodes.Template:
    try:
        return _CHECK_ENV.parse(source)
    except TemplateSyntaxError as exc:
        where = f" on line {exc.lineno}" if field == "body" and exc.lineno else ""
        raise InvalidInput(field, f"template error{where}: {_plain(exc.message or '')}") from None


def _plain(message: str) -> str:
    """Jinja's syntax errors in an owner's words: "an {% if %} is never
    closed: add {% endif %}" rather than which tags Jinja was looking for."""
    block = re.search(r"innermost block that needs to be closed is '(\w+)'", message)
    if block:
        tag = block.group(1)
        return f"a {{% {tag} %}} is never closed: add {{% end{tag} %}}"
    if "expected 'end of print statement'" in message:
        return "a {{ is never closed: add }}"
    if "expected 'end of statement block'" in message:
        return "a {% is never closed: add %}"
    no_such = re.search(r"No (filter|test) named '(\w+)'", message)
    if no_such:
        return f"'{no_such.group(2)}' is not a {no_such.group(1)} a template can use"
    unknown = re.search(r"Encountered unknown tag '(\w+)'", message)
    if unknown and unknown.group(1).startswith("end"):
        tag = unknown.group(1)
        return f"{{% {tag} %}} closes nothing: there is no {{% {tag[3:]} %}} before it"
    if unknown:
        return f"{{% {unknown.group(1)} %}} is not a template command (if, for, set…)"
    return message.replace("Jinja", "the template").rstrip(".")


@lru_cache(maxsize=256)
def names_used(subject: str, body: str) -> frozenset[str]:
    """The placeholders' top-level names a (checked) template needs:
    ``{{ invoice.total }}`` needs "invoice"; a name whose presence an
    ``{% if invoice %}`` tests is optional, so not counted (``{% if
    invoice.payment_method %}`` tests a part of it: still needed)."""
    found: set[str] = set()
    tested: set[str] = set()
    for source, field in ((subject or "", "subject"), (body or "", "body")):
        tree = _parse(source, field)
        found |= _undeclared(tree, field)
        tested |= {node.test.name for node in tree.find_all(nodes.If)
                   if isinstance(node.test, nodes.Name)}
    return frozenset(found - tested)


def _undeclared(tree: nodes.Template, field: str) -> set[str]:
    """meta.find_undeclared_variables, whose code generator refuses an
    unknown filter or test: that said as the part's problem."""
    try:
        return meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:  # (TemplateAssertionError: "No filter named 'x'")
        raise InvalidInput(field, f"template error: {_plain(exc.message or '')}") from None


def _static_check(source: str, field: str) -> None:
    tree = _parse(source, field)
    scope = {name: value for name, value in SCHEMA.items()}
    _walk(tree, field, scope)
    unknown = sorted(_undeclared(tree, field) - set(SCHEMA) - {"loop"})
    if unknown:
        raise InvalidInput(field, f"unknown placeholder {unknown[0]!r}")


_SPLIT = "\x1e\n"  # between subject and body in the one compiled template


class Compiled:
    """A checked template, compiled once: subject and body rendered in one
    pass (half the sandbox's per-render cost; the bulk path renders
    thousands)."""

    __slots__ = ("_both", "_subject", "_body")

    def __init__(self, subject: str, body: str) -> None:
        self._both = _RENDER_ENV.from_string(subject + _SPLIT + body)
        self._subject, self._body = subject, body

    def render(self, context: Mapping[str, Any]) -> tuple[str, str]:
        both = self._both
        try:
            # Template.render without its copy of the (empty) globals: the
            # context made directly (new_context would list the empty globals
            # each time)
            env = both.environment
            values = context if type(context) is dict else dict(context)  # (never written to)
            ctx = (env.context_class(env, values, both.name, both.blocks)
                   if not both.globals else both.new_context(dict(values), shared=True))
            text = "".join(both.root_render_func(ctx))
        except Exception:  # noqa: BLE001 — find the part at fault, for the message
            _run(_RENDER_ENV.from_string(self._subject), context, "subject")
            _run(_RENDER_ENV.from_string(self._body), context, "body")
            raise
        subject, _, body = text.partition(_SPLIT)
        return " ".join(subject.split()), body


@lru_cache(maxsize=512)
def compiled(subject: str, body: str) -> Compiled:
    """Both parts checked (see check) and compiled for rendering, cached
    by their text."""
    if "\n" in subject.strip() or "\r" in subject.strip():
        raise InvalidInput("subject", "must be one line")
    _static_check(subject, "subject")
    _static_check(body, "body")
    return Compiled(subject, body)


def check(subject: str, body: str) -> None:
    """Raise InvalidInput('subject'|'body', …) — ValidationFailed with a
    problem per part — for a syntax error (with its line), an unknown
    placeholder (by name) or anything that reaches for Python internals;
    such a template is never executed."""
    found = problems(subject, body)
    if found:
        raise ValidationFailed(found)


def problems(subject: str, body: str) -> list[Problem]:
    """What check refuses, per part (subject first): for forms that show
    each problem beside its field."""
    out = []
    for field, source in (("subject", subject or ""), ("body", body or "")):
        problem = _part_problem(source, field)
        if problem is not None:
            out.append(problem)
    return out


def _part_problem(source: str, field: str) -> Problem | None:
    if field == "subject" and ("\n" in source.strip() or "\r" in source.strip()):
        return Problem("subject", "must be one line")
    try:
        _static_check(source, field)
    except InvalidInput as exc:
        return Problem(exc.field, exc.message)
    # Unknown placeholders the static walk cannot see (on local variables,
    # list items…): render against the sample, strictly — only once the
    # walk found nothing that reaches for internals.
    try:
        _CHECK_ENV.from_string(source).render(sample_context())
    except UndefinedError as exc:
        return Problem(field, f"unknown placeholder: {_undefined_text(exc)}")
    except SecurityError as exc:
        return Problem(field, f"not allowed: {exc}")
    except TemplateError as exc:
        return Problem(field, f"template error: {exc}")
    except Exception as exc:  # noqa: BLE001 — e.g. {{ 1 / 0 }}: the owner's mistake
        return Problem(field, f"cannot be rendered: {exc}")
    return None


def _undefined_text(exc: UndefinedError) -> str:
    text = str(exc.message or exc)
    found = re.search(r"has no attribute '([^']+)'", text) or re.search(r"'([^']+)' is undefined",
                                                                       text)
    return repr(found.group(1)) if found else text


def render_text(subject: str, body: str, context: Mapping[str, Any], *,
                category: str = "general") -> Rendered:
    """Render a template given as text (a message typed by hand). Raises
    InvalidInput naming the part that was refused or failed."""
    return Rendered(*render_parts(subject, body, context), category)


def render_parts(subject: str, body: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) as ``render_text`` gives them, for the bulk path."""
    try:
        return compiled(subject or "", body or "").render(context)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 — the owner's template, not billdesk, failed
        raise InvalidInput("body", f"cannot be rendered: {exc}") from None


def _run(template: Any, context: Mapping[str, Any], field: str) -> str:
    try:
        return str(template.render(context))
    except SecurityError as exc:
        raise InvalidInput(field, f"not allowed: {exc}") from None
    except Exception as exc:  # noqa: BLE001 — the owner's template, not billdesk, failed
        raise InvalidInput(field, f"cannot be rendered: {exc}") from None


# --- where templates come from --------------------------------------------

@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    kind: str
    language: str
    category: str
    subject: str
    body: str
    disabled: bool
    customised: bool  # a row in the database (not the shipped default)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.name, self.name)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "language": self.language,
                "category": self.category, "subject": self.subject, "body": self.body,
                "disabled": self.disabled, "customised": self.customised}

    def render(self, context: Mapping[str, Any]) -> Rendered | None:
        if self.disabled:
            return None
        return render_text(self.subject, self.body, context, category=self.category)


def _resource_root() -> Any:
    return resources.files("billdesk") / "resources" / "email_templates"


@lru_cache(maxsize=256)
def default_text(name: str, language: str) -> tuple[str, str] | None:
    """The shipped (subject, body) of a built-in template, or None."""
    if name not in BUILT_IN or not re.fullmatch(r"[a-z]{2,3}", language or ""):
        return None
    path = _resource_root() / language / f"{name}.txt"
    if not path.is_file():
        return None
    return parse_default(path.read_text(encoding="utf-8"))


def parse_default(text: str) -> tuple[str, str]:
    """``Subject: …``, a blank line, the body."""
    head, _, body = text.replace("\r\n", "\n").partition("\n")
    if not head.startswith("Subject:"):
        raise ValueError("a default template starts with 'Subject: '")
    return head[len("Subject:"):].strip(), body.removeprefix("\n").rstrip("\n") + "\n"


@lru_cache(maxsize=1)
def shipped_languages() -> tuple[str, ...]:
    root = _resource_root()
    found = sorted(entry.name for entry in root.iterdir() if entry.is_dir())
    return tuple(sorted(found, key=lambda code: code != FALLBACK_LANGUAGE))


def languages_written(name: str | None = None) -> frozenset[str]:
    """The languages templates are written in (shipped, or saved in the
    book); with ``name``, the languages that template is written in. A
    client in another language gets the English text, and its dates and
    amounts are then written the English way too."""
    query = EmailTemplate.select(EmailTemplate.language).distinct()
    if name is None:
        shipped = set(shipped_languages())
    else:
        name = name.strip()
        query = query.where(EmailTemplate.name == name)
        shipped = {lang for lang in shipped_languages() if default_text(name, lang) is not None}
    return frozenset(shipped | {row[0] for row in query.tuples()})


_ROW = (EmailTemplate.name, EmailTemplate.language, EmailTemplate.kind, EmailTemplate.category,
        EmailTemplate.subject, EmailTemplate.body, EmailTemplate.disabled)


def _row(name: str, language: str) -> TemplateInfo | None:
    found = (EmailTemplate.select(*_ROW)
             .where(EmailTemplate.name == name, EmailTemplate.language == language)
             .tuples().first())
    if found is None:
        return None
    stored_name, lang, kind, category, subject, body, disabled = found
    return TemplateInfo(stored_name, kind, lang, category, subject, body, bool(disabled), True)


def _default(name: str, language: str) -> TemplateInfo | None:
    text = default_text(name, language)
    if text is None:
        return None
    return TemplateInfo(name, name, language, DEFAULT_CATEGORY[name], text[0], text[1], False,
                        False)


def _languages(language: str) -> list[str]:
    language = (language or FALLBACK_LANGUAGE).strip().lower()
    return [language] if language == FALLBACK_LANGUAGE else [language, FALLBACK_LANGUAGE]


def lookup(name: str, language: str = FALLBACK_LANGUAGE) -> TemplateInfo:
    """The template a client with this language gets: the row in that
    language, else the shipped default in that language, else the same in
    English (a custom template in none of these: its row in any language).
    Editing the English text leaves a German client its German one.
    NotFound when there is none."""
    name = (name or "").strip()
    langs = _languages(language)
    english = _row(name, FALLBACK_LANGUAGE) if len(langs) > 1 else None
    for lang in langs:
        found = _row(name, lang)
        if found is None and english is not None and english.disabled:
            return english  # switched off in English: off for a language with no row of its own
        found = found or _default(name, lang)
        if found is not None:
            return found
    other = (EmailTemplate.select(EmailTemplate.language).where(EmailTemplate.name == name)
             .order_by(EmailTemplate.language).scalar())
    if other is not None:  # a custom template written in another language only
        return _row(name, other)  # type: ignore[return-value]
    raise NotFound("template", f"no email template {name!r}")


def get_template(name: str, language: str = FALLBACK_LANGUAGE) -> TemplateInfo:
    """What ``name`` is in ``language`` (what lookup gives), with
    ``customised`` telling whether that language has its own row."""
    found = lookup(name, language)
    language = (language or FALLBACK_LANGUAGE).strip().lower()
    if found.language == language:
        return found
    return TemplateInfo(found.name, found.kind, language, found.category, found.subject,
                        found.body, found.disabled, False)


def render(name: str, context: Mapping[str, Any], *,
           language: str = FALLBACK_LANGUAGE) -> Rendered | None:
    """Render template ``name`` for a client of ``language``; None when the
    template is disabled; NotFound when there is no such template."""
    return lookup(name, language).render(context)


def list_templates(language: str | None = None) -> list[TemplateInfo]:
    """Every template: each built-in (its row, else its default) and each
    custom one. With a language, as clients of that language get them;
    without, every language that has a row or a shipped default."""
    rows = list(EmailTemplate.select(*_ROW).order_by(EmailTemplate.name, EmailTemplate.language)
                .tuples())
    stored = {(n.lower(), lang): TemplateInfo(n, k, lang, c, s, b, bool(d), True)
              for n, lang, k, c, s, b, d in rows}
    if language is not None:
        language = language.strip().lower()
        out = [get_template(name, language) for name in BUILT_IN]
        customs = sorted({info.name for info in stored.values() if info.kind == "custom"},
                         key=str.casefold)  # as typed: the key is folded, the name is not
        for name in customs:
            out.append(get_template(name, language))
        return out
    langs = sorted({lang for _n, lang in stored} | set(shipped_languages()),
                   key=lambda code: (code != FALLBACK_LANGUAGE, code))
    out = []
    for lang in langs:
        for name in BUILT_IN:
            info = stored.get((name, lang)) or _default(name, lang)
            if info is not None:
                out.append(info)
        out += [info for (_n, la), info in sorted(stored.items())
                if la == lang and info.kind == "custom"]
    return out


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "is required")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"must be {MAX_NAME} characters or fewer")
    if not _NAME.match(name):
        raise InvalidInput("name", "use letters, digits, spaces, '.', '-' and '_'")
    return name


def _check_language(language: str) -> str:
    language = (language or "").strip().lower()
    problems = validate.language_problems(language, "language")
    if problems:
        raise ValidationFailed(problems)
    return language


def save_template(name: str, *, language: str = FALLBACK_LANGUAGE, subject: str, body: str,
                  kind: str = "custom", category: str | None = None,
                  disabled: bool = False) -> TemplateInfo:
    """Save (create or replace) template ``name`` in ``language``. A
    built-in name saves that built-in (its kind is its name); any other
    name is a custom template. Checked first: nothing is written when
    any part is refused."""
    name = _check_name(name)
    language = _check_language(language)
    builtin = name.lower() in BUILT_IN
    if builtin:
        name = name.lower()
        if kind not in ("custom", name):
            raise InvalidInput("kind", f"the built-in template {name!r} has kind {name!r}")
        kind = name
    elif kind != "custom":
        if kind in KINDS:
            raise InvalidInput("name", f"a {KIND_LABELS[kind].lower()} template is named {kind!r}")
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    category = (category or DEFAULT_CATEGORY[kind]).strip().lower()
    found: list[Problem] = []
    if category not in EMAIL_CATEGORIES:
        found.append(Problem("category", f"must be one of {', '.join(EMAIL_CATEGORIES)}"))
    subject = (subject or "").strip()
    body = (body or "").replace("\r\n", "\n")
    if not subject:
        found.append(Problem("subject", "is required"))
    elif len(subject) > MAX_SUBJECT:
        found.append(Problem("subject", f"must be {MAX_SUBJECT} characters or fewer"))
    if not body.strip():
        found.append(Problem("body", "is required"))
    elif len(body) > MAX_BODY:
        found.append(Problem("body", f"must be {MAX_BODY} characters or fewer"))
    if not found:  # the template itself, once it is there to check
        found += problems(subject, body)
    if found:
        raise ValidationFailed(found)
    stamp = now()
    with database.atomic():
        existing = (EmailTemplate.select(EmailTemplate.id, EmailTemplate.kind)
                    .where(EmailTemplate.name == name, EmailTemplate.language == language)
                    .tuples().first())
        if existing is None:
            other = (EmailTemplate.select(EmailTemplate.kind).where(EmailTemplate.name == name)
                     .scalar())
            if other is not None and other != kind:
                raise Conflict("name", f"{name!r} is already a {other} template")
            EmailTemplate.insert(name=name, language=language, kind=kind, category=category,
                                 subject=subject, body=body, disabled=bool(disabled),
                                 created_at=stamp, updated_at=stamp).execute()
        else:
            if existing[1] != kind:
                raise Conflict("name", f"{name!r} is already a {existing[1]} template")
            EmailTemplate.update(subject=subject, body=body, category=category,
                                 disabled=bool(disabled), updated_at=stamp).where(
                EmailTemplate.id == existing[0]).execute()
    return _row(name, language)  # type: ignore[return-value]


def set_disabled(name: str, language: str, disabled: bool) -> TemplateInfo:
    """Turn a template off (it queues nothing) or on again; a built-in
    with no row gets one, a copy of its default."""
    info = get_template(name, language)
    return save_template(info.name, language=_check_language(language), subject=info.subject,
                         body=info.body, kind=info.kind, category=info.category,
                         disabled=disabled)


def reset_template(name: str, language: str = FALLBACK_LANGUAGE) -> TemplateInfo:
    """A built-in template back to the shipped default (its row removed)."""
    name = (name or "").strip().lower()
    language = (language or FALLBACK_LANGUAGE).strip().lower()
    if name not in BUILT_IN:
        raise InvalidInput("name", f"{name!r} is not a built-in template; delete it instead")
    EmailTemplate.delete().where(EmailTemplate.name == name,
                                 EmailTemplate.language == language).execute()
    return get_template(name, language)


def delete_template(name: str, language: str = FALLBACK_LANGUAGE) -> None:
    """Remove a custom template in one language."""
    name = (name or "").strip()
    language = (language or FALLBACK_LANGUAGE).strip().lower()
    if name.lower() in BUILT_IN:
        raise Conflict("name", f"{name!r} is built in: reset it to the default instead")
    deleted = EmailTemplate.delete().where(EmailTemplate.name == name,
                                           EmailTemplate.language == language).execute()
    if not deleted:
        raise NotFound("name", f"no custom template {name!r} in language {language!r}")


def iter_shipped() -> Iterator[TemplateInfo]:
    """Every shipped default (tests, the settings page's "show default")."""
    for lang in shipped_languages():
        for name in BUILT_IN:
            info = _default(name, lang)
            if info is not None:
                yield info
