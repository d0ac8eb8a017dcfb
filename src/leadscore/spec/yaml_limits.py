"""Bounds on a YAML document, checked on the parser's event stream before anything is built.

A model file comes from people and, through ``POST /v1/models``, from the network. A few lines
of anchors and aliases can stand for billions of nodes (the "billion laughs"), and deep nesting
makes recursive builders overflow the stack. PyYAML's parser is a state machine, not a
recursion, so walking its events is safe at any depth and costs time linear in the text; the
document is composed only once it is known to be small once expanded.
"""

from __future__ import annotations

from typing import Protocol

import yaml

from leadscore.errors import Issue

#: Longest model text accepted, in characters (the brief's model is about 4,000).
MAX_CHARACTERS = 1_000_000
#: Deepest nesting of lists and mappings (condition trees need a handful of levels).
MAX_DEPTH = 64
#: Most nodes the document may hold once every alias is expanded.
MAX_NODES = 100_000


def shape_issue(text: str, source: str) -> Issue | None:
    """The first bound ``text`` breaks, located where it was found; None when it keeps them.

    Invalid YAML is left to the loader, which reports it with its own position.
    """
    if len(text) > MAX_CHARACTERS:
        return Issue(
            source,
            None,
            None,
            "",
            f"is too long ({len(text):,} characters; at most {MAX_CHARACTERS:,})",
        )
    sizes: dict[str, int] = {}  # an anchor's node count, once its node is complete
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes so far) per open collection
    total = 0
    try:
        for event in yaml.parse(text):
            mark = event.start_mark
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_nodes) >= MAX_DEPTH:
                    return _at(source, mark, f"is nested too deeply (more than {MAX_DEPTH} levels)")
                open_nodes.append((event.anchor, 1))
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, size = open_nodes.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, size = event.anchor, 1
            elif isinstance(event, yaml.AliasEvent):
                anchor, size = None, sizes.get(event.anchor or "", 0)
                if event.anchor in {a for a, _ in open_nodes}:
                    return _at(source, mark, f"alias *{event.anchor} refers to its own anchor")
            else:
                continue
            if anchor is not None:
                sizes[anchor] = size
            if open_nodes:
                parent_anchor, parent_size = open_nodes[-1]
                open_nodes[-1] = (parent_anchor, parent_size + size)
            else:
                total += size
            expanded = total + sum(n for _, n in open_nodes)
            if expanded > MAX_NODES:
                return _at(
                    source,
                    mark,
                    f"expands to more than {MAX_NODES:,} values (aliases repeat what they name; "
                    "write the values out, or use fewer aliases)",
                )
    except yaml.YAMLError:
        return None
    return None


class _Mark(Protocol):
    """A position in the text (PyYAML's pure-Python and C parsers have one class each)."""

    line: int
    column: int


def _at(source: str, mark: _Mark | None, message: str) -> Issue:
    if mark is None:
        return Issue(source, None, None, "", message)
    return Issue(source, mark.line + 1, mark.column + 1, "", message)
