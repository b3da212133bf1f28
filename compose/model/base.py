"""The model base class and the shared value types.

Durations are float seconds in the model and Go duration strings ("1m30s") in dumps; byte
sizes are int bytes in the model and decimal strings in dumps (compose-go's printed forms,
parsed with ``compose.stackfile.units``).

Every model is frozen and forbids unknown keys, except ``x-*`` extension keys: a before-validator
moves them into ``extensions`` (excluded from normal dumps) and the serializer puts them back at
the end of the mapping, where ``docker compose config`` prints them. Serialization context:
``{"extensions": False}`` drops them (compose's JSON output and the config hash do).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from compose.stackfile.units import format_duration, parse_bytes, parse_duration

EXTENSIONS_ALIAS: Final = "__extensions__"


def _allow_extensions(schema: dict[str, Any]) -> None:
    schema["patternProperties"] = {"^x-": {}}


class ComposeModel(BaseModel):
    """Frozen, strict about keys, tolerant of ``x-*`` extensions."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra=_allow_extensions, defer_build=True
    )

    extensions: SkipJsonSchema[dict[str, Any]] = Field(
        default_factory=dict, alias=EXTENSIONS_ALIAS, exclude=True, repr=False
    )

    @model_validator(mode="before")
    @classmethod
    def _split_extensions(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(_is_ext(k) for k in data):
            return data
        plain = {k: v for k, v in data.items() if not _is_ext(k)}
        plain[EXTENSIONS_ALIAS] = {k: v for k, v in data.items() if _is_ext(k)}
        return plain

    @model_serializer(mode="wrap")
    def _join_extensions(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        for key in _mapping_fields(type(self)):
            if isinstance(data.get(key), dict):
                data[key] = dict(sorted(data[key].items()))
        context = info.context or {}
        if self.extensions and context.get("extensions", True):
            data.update(sorted(self.extensions.items()))
        return data


_MAPPING_FIELDS: dict[type, tuple[str, ...]] = {}


def _mapping_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Fields typed as mappings: dumped with sorted keys, as Go marshals maps."""
    found = _MAPPING_FIELDS.get(cls)
    if found is None:
        found = tuple(n for n, f in cls.model_fields.items() if _is_mapping(f.annotation))
        _MAPPING_FIELDS[cls] = found
    return found


def _is_mapping(annotation: Any) -> bool:
    while typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0]
    return typing.get_origin(annotation) is dict


def _is_ext(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _seconds(value: Any) -> float:
    try:
        return parse_duration(value) / 1e9
    except (TypeError, AttributeError):
        raise ValueError(f"invalid duration {value!r}") from None


def _duration_text(seconds: float) -> str:
    return format_duration(round(seconds * 1e9))


def _bytes(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"invalid byte size {value!r}")
    return parse_bytes(value)


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _none_to_empty(value: Any) -> Any:
    return {} if value is None else value


_DURATION_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": r"^[-+]?[0-9.a-zµ]+$"}, {"type": "number"}]
}
_BYTES_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "integer"}]}

# float seconds in the model; "1m30s" in the tree and in config output
Duration = Annotated[
    float,
    BeforeValidator(_seconds),
    PlainSerializer(_duration_text, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
# int bytes in the model; "52428800" in config output
ByteSize = Annotated[
    int,
    BeforeValidator(_bytes),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(_BYTES_SCHEMA),
]
# a string that YAML may have typed as a number or bool (label values, sysctls, expose, ...)
ScalarStr = Annotated[str, BeforeValidator(_scalar_to_str)]
StrMap = dict[str, ScalarStr]
NullableStrMap = dict[str, ScalarStr | None]
Nullable = BeforeValidator(_none_to_empty)
