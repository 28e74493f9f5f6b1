"""Plain data -> frozen config dataclasses, driven by their type hints; ``--set`` overrides; YAML text.

Nothing here knows a section: every mapping is parsed into the dataclass its field's type names, and
unknown keys, wrong types and impossible values (a section's ``__post_init__`` raising ValueError) raise
:class:`ConfigError` naming the key path, e.g. ``scenes/x.yaml: objects.count: min 5 > max 2``.

Hooks a section may define:

- ``from_short_form(value)``, a classmethod: the mapping a value other than a mapping stands for (or the
  value as it is); e.g. ``background: [r, g, b]``. ``--set`` spells a short form out before setting one
  of its keys. ValueError: a short form written wrongly.
- a field with ``metadata={"internal": True}`` is not a key of the file (the scene's ``source``).

Parsing reads no file and looks at no folder: paths stay as written (renderer.config.files checks them).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import yaml

from renderer.config.distributions import Distribution, DistributionError, parse_distribution
from renderer.errors import RendererError


class ConfigError(RendererError, ValueError):
    """A scene file that cannot be used; the message is one line naming the key path."""


class KeyPathError(Exception):
    """A value that cannot be parsed: where (the key path) and what (one line)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path or "<root>"
        self.message = message

    def config_error(self, source: str) -> ConfigError:
        return ConfigError(f"{source}: {self.path}: {self.message}")


def parse(tp: Any, value: Any, path: str = "", **internal: Any) -> Any:
    """``value`` (plain data, as YAML gives it) as the type ``tp``: a dataclass, a distribution
    (``Annotated[Distribution, "float" | "int" | "word"]``), float, int, bool, str, a tuple or an
    optional; KeyPathError naming the key below ``path`` on any problem. ``internal``: values of the
    dataclass's internal fields (not keys of the file)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        marker = typing.get_args(tp)[1]
        try:
            return parse_distribution(value, integer=marker == "int", allow_words=marker == "word")
        except DistributionError as exc:
            raise KeyPathError(path, str(exc)) from None
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(typing.cast(type, tp), _long_form(tp, value, path), path, internal)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise KeyPathError(path, f"expected a number, got {_type_name(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise KeyPathError(path, "expected a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise KeyPathError(path, f"expected an integer, got {_type_name(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise KeyPathError(path, f"expected true or false, got {_type_name(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise KeyPathError(path, f"expected a string, got {_type_name(value)}")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, dict) and args == (tuple[str, float], Ellipsis):  # {name: number} mappings
            value = [[key, v] for key, v in value.items()]
        if not isinstance(value, list | tuple):
            raise KeyPathError(path, f"expected a list, got {_type_name(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse(args[0], v, join(path, i)) for i, v in enumerate(value))
        if len(value) != len(args):
            raise KeyPathError(path, f"expected a list of {len(args)} values, got {len(value)}")
        return tuple(parse(a, v, join(path, i)) for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            return None
        return parse(_present(tp), value, path)
    raise TypeError(f"unsupported config type {tp}")  # pragma: no cover - schema bug


def _long_form(cls: Any, value: Any, path: str) -> Any:
    """``value`` with a section's short form spelled out (its ``from_short_form`` hook), if it has one."""
    hook = getattr(cls, "from_short_form", None)
    if hook is None or isinstance(value, dict):
        return value
    try:
        return hook(value)
    except ValueError as exc:
        raise KeyPathError(path, str(exc)) from None


def _present(tp: Any) -> Any:
    """The type of an optional (``X | None``) when present; other types as they are."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _public_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _parse_dataclass(cls: type, value: Any, path: str, internal: dict[str, Any]) -> Any:
    if not isinstance(value, dict):
        raise KeyPathError(path, f"expected a mapping, got {_type_name(value)}")
    hints = typing.get_type_hints(cls, include_extras=True)
    public = _public_fields(cls)
    for key in value:
        if key not in public:
            known = ", ".join(sorted(public))
            raise KeyPathError(join(path, str(key)), f"unknown key (known keys: {known})")
    kwargs = dict(internal)
    for name in public:
        if name in value:
            kwargs[name] = parse(hints[name], value[name], join(path, name))
        elif (public[name].default is dataclasses.MISSING
              and public[name].default_factory is dataclasses.MISSING):
            raise KeyPathError(join(path, name), "required key is missing")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        message = str(exc)
        # Messages that start with a field name ("count: ...") or a key path below one
        # ("lights.count: ...", from a check across sections) point that much deeper.
        head, sep, rest = message.partition(": ")
        if sep and _KEY_PATH.fullmatch(head) and head.split(".")[0].split("[")[0] in public:
            raise KeyPathError(f"{path}.{head}" if path else head, rest) from None
        raise KeyPathError(path, message) from None


def to_plain(value: Any) -> Any:
    """A config value as plain data (distributions as their YAML form, dataclasses as mappings without
    their internal fields, tuples as lists): ``parse`` of it gives the value back."""
    if isinstance(value, Distribution):
        return value.to_plain()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.metadata.get("internal")}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# --set KEY.PATH=VALUE

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_KEY_PATH = re.compile(r"\w+(?:\.\w+|\[\d+\])*")  # what a message from a section's check may start with


def apply_override(data: Any, setting: str, root: type, source: str = "<memory>") -> Any:
    """``data`` (plain data for the dataclass ``root``) with one ``key.path=value`` setting applied (a
    copy; the value parsed as YAML). A section written in its short form on the way is spelled out
    first (its ``from_short_form`` hook), so that its keys can be set."""
    key_path, sep, text = setting.partition("=")
    if not sep or not key_path.strip():
        raise ConfigError(f"--set {setting!r}: expected KEY.PATH=VALUE, e.g. camera.fov_deg=60")
    parts = [m.group(1) if m.group(1) is not None else int(m.group(2))
             for m in _PATH_PART.finditer(key_path.strip())]
    try:
        value = load_yaml(text)
    except YamlLimitError as exc:
        raise ConfigError(f"--set {key_path}: refused YAML: {exc}") from None
    except (yaml.YAMLError, RecursionError):
        raise ConfigError(f"--set {key_path}: the value {text!r} is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scene file must be a mapping, got {type(data).__name__}")
    tree = copy.deepcopy(data)
    node: Any = tree
    tp: Any = root  # the type of node, where the schema knows it (None below unknown keys)
    for depth, part in enumerate(parts[:-1]):
        where = _join_parts(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError(f"--set {key_path}: {where} does not exist")
            tp = _item_type(tp)
        else:
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key_path}: {_join_parts(parts[:depth])} is not a mapping")
            tp = _field_type(tp, part)
            node.setdefault(part, {})
        if dataclasses.is_dataclass(tp):
            try:
                node[part] = _long_form(tp, node[part], where)
            except KeyPathError as exc:
                raise exc.config_error(source) from None
        node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(f"--set {key_path}: {_join_parts(parts)} does not exist")
    elif not isinstance(node, dict):
        raise ConfigError(f"--set {key_path}: {_join_parts(parts[:-1])} is not a mapping")
    node[last] = value
    return tree


def _field_type(tp: Any, name: str) -> Any:
    """The type of field ``name`` of the dataclass ``tp`` (optionals unwrapped); None where unknown."""
    if not dataclasses.is_dataclass(tp) or name not in _public_fields(typing.cast(type, tp)):
        return None
    return _present(typing.get_type_hints(tp, include_extras=True)[name])


def _item_type(tp: Any) -> Any:
    """The type of the items of a ``tuple[X, ...]``; None where unknown."""
    args = typing.get_args(tp) if typing.get_origin(tp) is tuple else ()
    return _present(args[0]) if len(args) == 2 and args[1] is Ellipsis else None


def _join_parts(parts: Sequence[str | int]) -> str:
    path = ""
    for part in parts:
        path = join(path, part)
    return path


# --------------------------------------------------------------------------------------------------
# YAML text


MAX_YAML_BYTES = 2**20
"""The largest scene file read (bytes); scene files are a few kB."""
MAX_YAML_NODES = 20_000
"""The most values a YAML document may hold, with every alias counted as the values it stands for (a scene
file holds a few hundred): bounds the time and memory of parsing an alias "bomb" (10^9 leaves in 100 bytes)."""
MAX_YAML_ALIASES = 1_000
"""The most aliases (``*name``) a YAML document may use."""


class YamlLimitError(ValueError):
    """YAML that is well formed but unsafe to expand: a recursive alias or too many values; one line."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that counts what it composes (values and aliases) and stops at the caps,
    before the document is built; numbers in exponent form without a dot (``1e-3``, YAML 1.2 floats that
    YAML 1.1 reads as strings) are numbers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._events = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML's hook
        self._events += 1
        if self._events > MAX_YAML_NODES:
            raise YamlLimitError(f"more than {MAX_YAML_NODES} values")
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise YamlLimitError(f"more than {MAX_YAML_ALIASES} aliases (*name)")
        return super().compose_node(parent, index)


_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def load_yaml(text: str) -> Any:
    """The plain data of one YAML document (safe types only), bounded: YamlLimitError for a recursive alias
    (``a: &x [1, *x]``), more than MAX_YAML_ALIASES aliases or more than MAX_YAML_NODES values once aliases
    are expanded, found on the node graph before anything is built; yaml.YAMLError for malformed YAML;
    RecursionError for deep nesting."""
    return _load(text, lambda root: None)


def _load(text: str, check: Callable[[yaml.Node], None]) -> Any:
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _expanded_size(root)
        check(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """The number of values under ``root`` with every alias expanded, without expanding any: each node's
    size is computed once (a node reached again through an alias reuses it); a node reached from inside
    itself is a recursive alias. YamlLimitError for either problem."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(child)] for child in children)
            if total > MAX_YAML_NODES:
                raise YamlLimitError(f"more than {MAX_YAML_NODES} values once its aliases are expanded")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            raise YamlLimitError(f"a recursive alias (the value at line {line} contains itself)")
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                line = child.start_mark.line + 1
                raise YamlLimitError(f"a recursive alias (the value at line {line} contains itself)")
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_yaml(text: str, source: str) -> Any:
    """The plain data of a YAML document (load_yaml: bounded, recursive aliases refused); ConfigError for
    malformed or unsafe YAML and for a repeated key (YAML lets it silently replace the first), naming its
    key path and line."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{source}: the scene file is {len(text)} characters, more than {MAX_YAML_BYTES} "
                          f"(a scene file is a few kB)")
    try:
        return _load(text, lambda root: _refuse_duplicate_keys(root, source))
    except YamlLimitError as exc:
        raise ConfigError(f"{source}: refused YAML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: malformed YAML{where}: {problem}") from None


def _refuse_duplicate_keys(root: yaml.Node, source: str) -> None:
    """A repeated key in any mapping, named by its key path and line. The node graph is walked once per node
    (a mapping reached again through an alias is not walked again), so aliases cost nothing here."""
    stack: list[tuple[Any, str]] = [(root, "")]
    visited: set[int] = set()
    while stack:
        node, where = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                key = str(key_node.value)
                if key in seen:
                    line = key_node.start_mark.line + 1
                    raise ConfigError(f"{source}: {join(where, key)}: duplicate key (line {line})")
                seen.add(key)
            # Pushed last to first, so that nodes are visited in document order: a shared value is named by
            # the key path of its anchor (written before any alias to it).
            stack.extend((value, join(where, str(key.value))) for key, value in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, join(where, i)) for i, item in reversed(list(enumerate(node.value))))


# --------------------------------------------------------------------------------------------------
# Key paths


def join(path: str, key: str | int) -> str:
    """The key path of ``key`` below ``path`` (``objects.assets[0]``); odd keys quoted, on one line."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not key.isprintable() or not key:  # keep every message on one line: show such keys quoted
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)
