"""The wire vocabulary, read from the generated protocol.json: version, op names, error codes, and one
frozen params class per request type, validated against the JSON Schema that protocol.ts produced."""
from __future__ import annotations

import json
import math
from dataclasses import make_dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROTOCOL_FILE = Path(__file__).with_name("protocol.json")


@cache
def spec() -> dict[str, Any]:
    return json.loads(PROTOCOL_FILE.read_text())


class BadParams(ValueError):
    """Params that do not match the request's schema; the message names the field."""


def _check(value: Any, schema: dict[str, Any], path: str) -> None:
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _check(value, option, path)
                return
            except BadParams as err:
                errors.append(str(err))
        raise BadParams("; ".join(errors))
    kind = schema.get("type")
    if kind is not None and not _has_type(value, kind):
        raise BadParams(f"{path}: expected {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise BadParams(f"{path}: expected one of {schema['enum']}, got {value!r}")
    if "const" in schema and value != schema["const"]:
        raise BadParams(f"{path}: expected {schema['const']!r}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_bounds(value, schema, path)
    if isinstance(value, dict) and "properties" in schema:
        _check_object(value, schema, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise BadParams(f"{path}: expected at least {schema['minItems']} items")
        prefix = schema.get("prefixItems", [])  # tuples: one schema per position, then `items`
        if prefix and len(value) != len(prefix) and schema.get("items") is False:
            raise BadParams(f"{path}: expected {len(prefix)} items, got {len(value)}")
        for i, item in enumerate(value):
            item_schema = prefix[i] if i < len(prefix) else schema.get("items", {})
            if isinstance(item_schema, dict):
                _check(item, item_schema, f"{path}[{i}]")


def _has_type(value: Any, kind: str | list[str]) -> bool:
    if isinstance(kind, list):
        return any(_has_type(value, k) for k in kind)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "null": type(None), "object": dict, "array": list}[kind])


def _check_bounds(value: float, schema: dict[str, Any], path: str) -> None:
    if schema.get("type") in ("number", "integer") and not math.isfinite(value):  # as zod's z.number()
        raise BadParams(f"{path}: expected a finite number, got {value}")
    if "minimum" in schema and value < schema["minimum"]:
        raise BadParams(f"{path}: expected >= {schema['minimum']}, got {value}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise BadParams(f"{path}: expected > {schema['exclusiveMinimum']}, got {value}")
    if "maximum" in schema and value > schema["maximum"]:
        raise BadParams(f"{path}: expected <= {schema['maximum']}, got {value}")


def _check_object(value: dict, schema: dict[str, Any], path: str) -> None:
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            raise BadParams(f"{path}.{key}: required")
    if schema.get("additionalProperties") is False:
        unknown = sorted(set(value) - set(props))
        if unknown:
            raise BadParams(f"{path}: unknown key(s) {unknown}")
    for key, item in value.items():
        if key in props:
            _check(item, props[key], f"{path}.{key}")


@cache
def params_class(request_type: str) -> type:
    """A frozen dataclass whose fields are the request's params, in schema order."""
    schema = spec()["requests"][request_type]["params"]
    fields = list(schema.get("properties", {}))
    return make_dataclass(f"{request_type.title().replace('_', '')}Params", fields, frozen=True)


def parse_params(request_type: str, params: Any) -> Any:
    """Validate `params` against the request's schema and return them as a frozen dataclass; a field with a
    default in protocol.ts may be left out (the TS client always sends it; in-process callers need not)."""
    schema = spec()["requests"][request_type]["params"]
    if isinstance(params, dict):
        props = schema.get("properties", {})
        params = {**{k: v["default"] for k, v in props.items() if "default" in v and k not in params}, **params}
    _check(params, schema, "params")
    return params_class(request_type)(**params)


def request_types() -> list[str]:
    return list(spec()["requests"])
