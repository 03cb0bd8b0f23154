"""Turn pydantic validation errors into Problems that name file, key path, found and allowed."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from watchkeeper.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def key_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as the key path a user reads in their file: a.b[0].c."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a model accepts at the parent of loc, for 'unknown key' messages."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    if not fields:
        return []
    return sorted(f.alias or name for name, f in fields.items())


def _model_of(annotation: Any) -> Any:
    """Find the BaseModel inside an annotation such as Optional[list[Model]] or dict[str, Model]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def problems_from(error: ValidationError, source: str, model: type[BaseModel]) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        found = item.get("input")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            message = "unknown key" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        else:
            message = f"found {_short(found)}; {item['msg'][0].lower()}{item['msg'][1:]}"
        problems.append(Problem(source, key_path(loc), message))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate(model: type[M], data: Any, source: str) -> M:
    """Build model from data or raise ConfigError listing every problem at once."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(problems_from(error, source, model)) from None
