"""Schema validation: every jsonschema error turned into a line and a message a user can act on."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError, best_match, by_relevance  # type: ignore[import-untyped, unused-ignore]

from routing_guard.routing.parsed import JsonPath, Parsed, RoutingError, dotted, kind_of, show
from routing_guard.routing.semantics import ROUTE_NAME_RULE


@cache
def _validator() -> Any:
    schema = json.loads(
        resources.files("routing_guard").joinpath("schema/routing.schema.json").read_text("utf-8")
    )
    return Draft202012Validator(schema)


def check_schema(parsed: Parsed) -> None:
    """Fail on the best-matching schema error first, then every other problem, each with its line."""
    errors: list[ValidationError] = list(_validator().iter_errors(parsed.data))
    if errors:
        # A misspelt field also makes a required one missing: name the misspelling first.
        best = best_match(errors, key=by_relevance(strong=frozenset({"additionalProperties"})))
        rest = sorted(
            (error for error in errors if error is not best), key=lambda e: _error_line(e, parsed) or 0
        )
        problems: list[tuple[int | None, str]] = []
        for error in [best, *rest]:
            for problem in _describe(error, parsed):
                if problem not in problems:
                    problems.append(problem)
        line, message = problems[0]
        raise RoutingError(parsed.display, line, message, problems[1:])


def _error_line(error: ValidationError, parsed: Parsed) -> int | None:
    path: JsonPath = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path = (*path, error.instance)
    return parsed.line(path)


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _describe(error: ValidationError, parsed: Parsed) -> list[tuple[int | None, str]]:
    """Turn one jsonschema error into (line, message) pairs a user can act on."""
    path: JsonPath = tuple(error.absolute_path)
    where = dotted(path) or "the top level"
    in_where = f"in {where}" if path else "at the top level"
    kind, value, instance = error.validator, error.validator_value, error.instance
    line = parsed.line(path)
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        problems = []
        for key in instance:
            if key not in allowed:
                message = f"unknown field {key!r} {in_where} (allowed: {', '.join(allowed)})"
                if key == "model" and path == ("defaults",):
                    message += "; each route names its own model"
                elif close := difflib.get_close_matches(key, allowed, n=1):
                    message += f"; did you mean {close[0]!r}?"
                problems.append((parsed.line((*path, key)), message))
        return problems
    if "propertyNames" in error.absolute_schema_path:
        line = parsed.line((*path, instance))
        if path == ("routes",):
            return [(line, f"route name {instance!r} is not allowed: {ROUTE_NAME_RULE}")]
        return [(line, f"{where}: {instance!r} is not a valid HTTP header name")]
    if kind == "required":
        missing = ", ".join(repr(name) for name in value if name not in instance)
        plural = "s" if len([name for name in value if name not in instance]) > 1 else ""
        message = f"missing required field{plural} {missing} {in_where}"
        if path == () and "version" not in instance:
            message += " (start the file with `version: 1`)"
        return [(line, message)]
    if kind == "type":
        expected = _TYPE_NAMES.get(value, value)
        if instance is None:
            return [(line, f"{where}: has no value; expected {expected}")]
        if isinstance(instance, dict | list):
            return [(line, f"{where}: expected {expected}, not {kind_of(instance)}")]
        if value in ("object", "array"):
            return [(line, f"{where}: expected {expected}, not {show(instance)}")]
        message = f"{where}: {show(instance)} is not of type {value!r}"
        if value == "boolean":
            message += " (write true or false)"
        elif value == "string":
            message += " (put it in quotes)"
        return [(line, message)]
    if kind == "enum":
        message = f"{where}: {show(instance)} is not one of " + ", ".join(repr(option) for option in value)
        if isinstance(instance, str) and (close := difflib.get_close_matches(instance, value, n=1)):
            message += f"; did you mean {close[0]!r}?"
        return [(line, message)]
    if kind == "const":
        return [(line, f"{where}: must be {json.dumps(value)}, not {show(instance)}")]
    if kind == "minProperties" and path == ("routes",):
        return [
            (line, "routes: no routes defined; add at least one, e.g. `code-generation: {model: gpt-4o}`")
        ]
    if kind in ("minLength", "minProperties"):
        return [(line, f"{where}: must not be empty")]
    if kind == "minimum":
        return [(line, f"{where}: must be at least {value}, not {show(instance)}")]
    return [(line, f"{where}: {error.message}")]
