"""Plain (JSON) data from frozen dataclasses and back, by their annotations: the one serialiser of the
frame description (renderer.scene.description), the per-object label records (renderer.scene.records)
and the dataset's header and frame records (renderer.io.records).

``to_plain(value)``: a dataclass becomes an object of its fields in declaration order, tuples and lists
become lists, numpy arrays nested lists and numpy scalars Python numbers. ``from_plain(cls, data)``:
the dataclass back, each nested part rebuilt as the type its field's annotation names (a dataclass, a
tuple of them, a dict of them, a numpy array of the annotated dtype); other lists come back as
(nested) tuples. Unknown keys, missing required keys, and an object where no object belongs raise
ValueError naming the class and the key (a damaged or foreign file, not silently different data).

Where the annotation alone does not say how a field is stored, its metadata does
(``dataclasses.field(metadata={...})``):

- ``omit_if_none``: left out while None or an empty tuple (a reader gets the field's default back).
- ``shape``: a numpy array field's shape, -1 for any length (checked when read).
- ``keys``: a fixed-length tuple stored as an object with these keys, e.g. ("yaw", "pitch", "roll").
- ``pairs``: a tuple of (name, value) pairs stored as an object {name: value}.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

OMIT_IF_NONE: dict[str, Any] = {"omit_if_none": True}


def array_shape(*shape: int) -> dict[str, Any]:
    """Field metadata of a numpy array field stored with this shape (-1: any length)."""
    return {"shape": shape}


def to_plain(value: Any) -> Any:
    """JSON-ready data (dicts, lists, str, numbers, bools, None) of a dataclass or any value inside one."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get("omit_if_none") and (item is None or (isinstance(item, tuple) and not item)):
                continue
            if item is not None and "keys" in f.metadata:
                plain[f.name] = {k: to_plain(v) for k, v in zip(f.metadata["keys"], item, strict=True)}
            elif item is not None and f.metadata.get("pairs"):
                plain[f.name] = {k: to_plain(v) for k, v in item}
            else:
                plain[f.name] = to_plain(item)
        return plain
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def from_plain(cls: type[T], data: Any) -> T:
    """The dataclass ``cls`` from its to_plain form; ValueError (naming the class and key) where the data
    does not fit the annotations."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    fields = _fields(typing.cast(type, cls))
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown key {unknown[0]!r}")
    missing = [name for name, f in fields.items() if f.required and name not in data]
    if missing:
        raise ValueError(f"{cls.__name__}: missing key {missing[0]!r}")
    return cls(**{name: _decode(cls, name, fields[name], value) for name, value in data.items()})


@dataclass(frozen=True)
class _Field:
    """How one field is read: kind nested (a dataclass), many (a tuple of them), mapping (a dict whose
    values are ``nested`` where given, as read otherwise), array, keys, pairs, or plain."""

    kind: str
    required: bool
    nested: type | None = None
    dtype: np.dtype[Any] | None = None
    shape: tuple[int, ...] | None = None
    keys: tuple[str, ...] = ()


def _decode(cls: type, name: str, field: _Field, value: Any) -> Any:
    where = f"{cls.__name__}.{name}"
    if value is None:
        return None
    if field.kind == "nested":
        return from_plain(field.nested, value)  # type: ignore[arg-type]
    if field.kind == "many":
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(from_plain(field.nested, v) for v in value)  # type: ignore[arg-type]
    if field.kind in ("mapping", "keys", "pairs") and not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    if field.kind == "mapping":
        return {k: from_plain(field.nested, v) for k, v in value.items()} if field.nested else value
    if field.kind == "keys":
        if set(value) != set(field.keys):
            raise ValueError(f"{where}: expected the keys {', '.join(field.keys)}, got {', '.join(map(str, value))}")
        return tuple(_tupled(value[k]) for k in field.keys)
    if field.kind == "pairs":
        return tuple((k, _tupled(v)) for k, v in value.items())
    if field.kind == "array":
        try:
            array = np.array(value, dtype=field.dtype)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {' '.join(str(exc).split())}") from None
        shape = field.shape
        if shape is None:
            return array
        if array.size == 0 and -1 in shape:  # an empty list: no rows of the stored width
            return array.reshape(tuple(0 if n == -1 else n for n in shape))
        if array.ndim != len(shape) or any(n not in (-1, m) for n, m in zip(shape, array.shape, strict=True)):
            wanted = " x ".join("N" if n == -1 else str(n) for n in shape)
            raise ValueError(f"{where}: expected shape {wanted}, got {' x '.join(map(str, array.shape))}")
        return array
    if isinstance(value, dict):
        raise ValueError(f"{where}: an object where a value belongs")
    return _tupled(value)


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _array_dtype(hint: Any) -> np.dtype[Any] | None:
    """The dtype of a numpy array hint (NDArray[np.float64]: float64; a bare ndarray: float64); None
    where the hint names no array."""
    if hint is np.ndarray:
        return np.dtype(np.float64)
    if typing.get_origin(hint) is not np.ndarray:
        return None
    args = typing.get_args(hint)
    scalar = typing.get_args(args[1]) if len(args) == 2 else ()
    return np.dtype(scalar[0]) if scalar and isinstance(scalar[0], type) else np.dtype(np.float64)


def _optional_of(hint: Any) -> Any:
    """X for X | None (the stored value is None or an X); the hint itself otherwise."""
    args = typing.get_args(hint)
    if type(None) in args and len(args) == 2 and typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in args if a is not type(None))
    return hint


def _field(f: dataclasses.Field[Any], hint: Any) -> _Field:
    required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    hint = _optional_of(hint)
    if "keys" in f.metadata:
        return _Field("keys", required, keys=tuple(f.metadata["keys"]))
    if f.metadata.get("pairs"):
        return _Field("pairs", required)
    dtype = _array_dtype(hint)
    if dtype is not None:
        return _Field("array", required, dtype=dtype, shape=f.metadata.get("shape"))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and args and _is_dataclass_type(args[0]):
        return _Field("many", required, nested=args[0])
    if origin is dict:
        value = args[1] if len(args) == 2 else Any
        return _Field("mapping", required, nested=value if _is_dataclass_type(value) else None)
    if _is_dataclass_type(hint):
        return _Field("nested", required, nested=hint)
    return _Field("plain", required)


@functools.cache
def _fields(cls: type) -> dict[str, _Field]:
    hints = typing.get_type_hints(cls)
    return {f.name: _field(f, hints[f.name]) for f in dataclasses.fields(cls)}
