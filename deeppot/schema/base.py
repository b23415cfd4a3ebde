"""Declared input sections on pydantic v2: strict types, ranges, relations, one-line errors.

A section is a :class:`Section` subclass whose fields carry their type, default, range and
a one-line ``description``; the same declaration validates input files and prints the key
documentation (``deeppot doc-train-input``, ``deeppot md --keys``).

Conventions, enforced for every section:

* **strict types**: an integer key takes a JSON integer only. ``5e0`` and ``20.0`` are
  floats in JSON and are rejected for integer keys, as DeePMD-kit's own checker (dargs)
  rejects them; a float key takes integers (``"limit_pref_e": 1``). Booleans are ``true`` /
  ``false``, never 0/1; strings are never numbers. NaN and infinities are rejected.
* **unknown keys** fail with a "did you mean" hint; ``_comment*`` keys are ignored.
* **keys DeePMD-kit has and deeppot does not implement** (``NOT_YET``) fail with "not
  supported by deeppot yet" unless they hold their neutral value (``numb_fparam: 0``).
* every error becomes one line ``<file>: <section/key>: <problem>``
  (:func:`validate_section`), raised as :class:`~deeppot.errors.ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError, PydanticUndefined

from deeppot.errors import ConfigError

NOT_YET = "not supported by deeppot yet"


def fail(key: str, message: str) -> PydanticCustomError:
    """An error about ``key`` of the section being validated (raise it from a validator)."""
    return PydanticCustomError("deeppot", "{message}", {"key": key, "message": message})


def show(value: Any) -> str:
    """A value as the user wrote it (JSON spelling: true, null, "text")."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(key: str, options) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Section(BaseModel):
    """Base of every input section: strict, closed, with DeePMD-kit's unimplemented keys named.

    ``NOT_YET`` maps a key to the values that mean "off" (accepted, then dropped); any other
    value is "not supported by deeppot yet". ``ALIASES`` maps an old key name to the current one.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_default=False,
                              protected_namespaces=())
    NOT_YET: ClassVar[dict[str, tuple]] = {}
    ALIASES: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _check_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # pydantic reports "not a mapping"
        out = {}
        for key, value in data.items():
            if not isinstance(key, str):
                raise fail(str(key), "keys must be strings")
            if key.startswith("_comment"):
                continue
            key = cls.ALIASES.get(key, key)
            if key in cls.NOT_YET:
                if any(value == off and type(value) is type(off) for off in cls.NOT_YET[key]):
                    continue
                raise fail(key, f"{show(value)}: {NOT_YET}")
            if key not in cls.model_fields:
                raise fail(key, "unknown key" + did_you_mean(key, [*cls.model_fields, *cls.NOT_YET]))
            out[key] = value
        return out

    @classmethod
    def keys_doc(cls) -> list[tuple[str, str, str, str]]:
        """(key, type, default, meaning) of each field, sub-sections flattened as ``a/b``."""
        rows = []
        for name, info in cls.model_fields.items():
            sub = _section_class(info.annotation)
            if sub is not None:
                rows += [(f"{name}/{k}", t, d, m) for k, t, d, m in sub.keys_doc()]
                continue
            extra = info.json_schema_extra or {}
            type_text = extra.get("type_text") or type_name(info.annotation)
            type_text += "".join(f" {op} {show(getattr(m, attr))}" for m in info.metadata
                                 for attr, op in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))
                                 if getattr(m, attr, None) is not None)
            if info.is_required():
                default = "(required)"
            else:
                value = info.default_factory() if info.default is PydanticUndefined else info.default
                default = show(value)
            rows.append((name, type_text, default, info.description or ""))
        return rows


def _section_class(annotation) -> type[Section] | None:
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], Section):
        return args[0]
    return None


def type_name(annotation) -> str:
    """``int``, ``float | null``, ``list[str]``, ``"a" | "b"`` for the documentation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(show(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join("null" if a is type(None) else type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


# ----------------------------------------------------------------------------------------
# one-line messages
def _path(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            if parts:
                parts[-1] += f"[{item}]"
            else:
                parts.append(f"[{item}]")
        elif isinstance(item, str) and item.startswith("@"):
            continue  # the tag of a discriminated union (descriptor type, potential type)
        else:
            parts.append(str(item))
    return "/".join(parts)


_RANGE = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
_TYPE = {"int_type": "an integer", "int_parsing": "an integer", "float_type": "a number",
         "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
         "string_type": "a string", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
         "model_attributes_type": "a mapping", "tuple_type": "a list"}


#: discriminated unions (descriptor type, potential type): their supported and not-yet-supported tags
_UNIONS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []


def register_union(what: str, supported, not_yet=()) -> None:
    """Declare the tags of a union discriminated by a ``type`` key, for its error messages."""
    _UNIONS.append((what, tuple(supported), tuple(not_yet)))


def _union_message(tag: str, expected: str) -> str:
    for _, supported, not_yet in _UNIONS:
        if tag in not_yet:
            return f"{show(tag)}: {NOT_YET} (supported: {', '.join(supported)})"
    for what, supported, _ in _UNIONS:
        if all(t.strip("'@ ") in supported for t in expected.split(",")):
            return f"unknown {what} {show(tag)}{did_you_mean(tag, supported)} (supported: {', '.join(supported)})"
    return f"unknown type {show(tag)} (supported: {expected.replace('@', '')})"


def message(error: dict) -> tuple[str, str]:
    """(key path, problem) of one pydantic error dict."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    path = _path(error["loc"])
    if "key" in ctx:
        path = f"{path}/{ctx['key']}" if path else ctx["key"]
    if kind == "deeppot":
        return path, ctx["message"]
    if kind == "union_tag_not_found":
        if isinstance(value, dict) and "type" in value:
            return f"{path}/type", f"{show(value['type'])} is not a string"
        return (f"{path}/type", "missing required key") if isinstance(value, dict) else (path, f"{show(value)} "
                                                                                          "is not a mapping")
    if kind == "union_tag_invalid":
        return f"{path}/type", _union_message(str(ctx.get("tag", "")).lstrip("@"), str(ctx.get("expected_tags")))
    if kind == "missing":
        return path, "missing required key"
    if kind == "extra_forbidden":
        return path, "unknown key"
    if kind in _RANGE:
        bound = next(iter(ctx.values()))
        return path, f"{show(value)} must be {_RANGE[kind]} {show(bound)}"
    if kind in _TYPE:
        text = f"{show(value)} is not {_TYPE[kind]}"
        if kind == "int_type" and isinstance(value, float) and value.is_integer():
            text += f" (integer keys take integers: write {int(value)})"
        return path, text
    if kind == "finite_number":
        return path, f"{show(value)} is not a finite number"
    if kind == "literal_error":
        return path, f"{show(value)} is not one of {ctx.get('expected')}"
    if kind in ("too_short", "too_long"):
        return path, f"{show(value)} has {ctx.get('actual_length')} entries; " + (
            f"at least {ctx.get('min_length')} needed" if kind == "too_short" else f"at most {ctx.get('max_length')}")
    if kind == "value_error":
        return path, str(ctx.get("error", error["msg"]))
    return path, error["msg"]


def validate_section(cls: type[Section], data: Any, where: str) -> Section:
    """``cls`` validated from ``data``; the first problem as one-line ConfigError ``where: path: problem``."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        path, problem = message(err.errors(include_url=False)[0])
        raise ConfigError(f"{where}: {path}: {problem}" if path else f"{where}: {problem}") from None


def describe_rows(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """Aligned documentation lines ``key  default  meaning [type]``."""
    width = max(len(r[0]) for r in rows) + 2
    return [f"  {k:<{width}}{d:<16} {m} [{t}]" for k, t, d, m in rows]
