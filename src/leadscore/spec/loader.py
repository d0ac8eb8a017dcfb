"""YAML -> ScoringModel, with every problem located as ``file:line:col field.path``.

PyYAML's node tree keeps the position of every key and value; pydantic reports each error's
location as a path of keys and indexes. Walking the one along the other turns a pydantic error
into a message a person can act on, without a traceback.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from leadscore.errors import Issue, ModelFileError
from leadscore.spec.model import FieldError, ScoringModel
from leadscore.spec.yaml_limits import shape_issue

DEFAULT_MODEL_RESOURCE = "brief.yaml"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true and false. PyYAML follows YAML 1.1, where ``NO``, ``yes``,
    ``on`` and ``off`` are booleans too, so a country list with Norway's ``NO`` would lose it."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _node_position(root: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int, int] | None:
    """The 1-based (line, col) of the deepest node reachable along ``loc``."""
    if root is None:
        return None
    node: yaml.Node = root
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            key = "not" if part == "not_" else part
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is not None:
            node = child
        # parts that match nothing are pydantic's union tags: skip them and keep walking
    return node.start_mark.line + 1, node.start_mark.column + 1


def _field_path(loc: tuple[int | str, ...], data: Any) -> str:
    """``('fit', 0, 'regex', 'pattern')`` -> ``fit[0].pattern`` (union tags dropped)."""
    path = ""
    current = data
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
            current = current[part] if isinstance(current, list) and part < len(current) else None
            continue
        key = "not" if part == "not_" else part
        is_last = index == len(loc) - 1
        if not is_last and not (isinstance(current, dict) and key in current):
            continue  # a union tag such as 'regex' or 'all', not a key of the file
        path += f".{key}" if path else key
        current = current.get(key) if isinstance(current, dict) else None
    return path


def _describe(error: Any) -> str:
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if error["type"] == "union_tag_invalid":
        ctx = error.get("ctx", {})
        return f"'type' must be one of {ctx.get('expected_tags')}. Got {ctx.get('tag')!r} instead"
    received = error.get("input")
    if error["type"] not in {"value_error", "condition_kind"} and not isinstance(received, dict):
        return f"{message}. Got {received!r} instead"
    return message


def parse_model(text: str, source: str = "<model>") -> ScoringModel:
    """Validate YAML text as a model; raise ModelFileError listing every problem.

    The text's size, depth and expanded size are bounded first (``yaml_limits``), so no
    document, however crafted, makes this slow or large."""
    issue = shape_issue(text, source)
    if issue is not None:
        raise ModelFileError([issue])
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ModelFileError(
            [Issue(source, line, col, "", f"is not valid YAML: {problem}")]
        ) from None
    if not isinstance(data, dict):
        raise ModelFileError([Issue(source, 1, 1, "", "must be a mapping with at least 'name'")])
    try:
        return ScoringModel.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, FieldError):  # a check across the model names its field
                loc = (*loc, *cause.loc)
            position = _node_position(root, loc)
            line, col = position if position is not None else (None, None)
            issues.append(Issue(source, line, col, _field_path(loc, data), _describe(error)))
        raise ModelFileError(issues) from None


def load_model(path: str | Path) -> ScoringModel:
    """Read and validate one model file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelFileError(
            [Issue(str(file), None, None, "", f"cannot be read: {exc.strerror}")]
        ) from None
    return parse_model(text, str(file))


def default_model_text() -> str:
    """The shipped default model (the brief's example), comments included."""
    resource = resources.files("leadscore.spec.resources").joinpath(DEFAULT_MODEL_RESOURCE)
    return resource.read_text(encoding="utf-8")


def default_model() -> ScoringModel:
    """The brief's example model, validated."""
    return parse_model(default_model_text(), DEFAULT_MODEL_RESOURCE)
