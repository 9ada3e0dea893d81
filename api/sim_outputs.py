"""Sim block outputs: ``Block`` / ``Block.attribute.path`` selectors and the text of a stream chunk.

A block is a state (its output) or a flow node (``{output name: value}``).
"""
from __future__ import annotations

import json
import re
from typing import Any


def _normal(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def whole(kind: str, value: Any) -> Any:
    """A flow node's outputs are {output name: value}; a node with one output shows the value."""
    if kind == "flow" and isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _dig(value: Any, path: list[str]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def select(selectors: list[str], block: str, value: Any, kind: str) -> list[tuple[str, Any]]:
    """(selector, value) for each ``Block`` / ``Block.attribute.path`` selector naming ``block``."""
    found: list[tuple[str, Any]] = []
    for selector in selectors:
        for name in (block, _normal(block)):
            target = selector if name == block else _normal(selector)
            if target == name:
                found.append((selector, whole(kind, value)))
                break
            if target.startswith(name + "."):
                ok, picked = _dig(value, selector[len(block) + 1:].split(".") if name == block
                                  else _rest(selector, name))
                if ok:
                    found.append((selector, picked))
                break
    return found


def _rest(selector: str, normal_block: str) -> list[str]:
    """The attribute path after a block name matched case- and space-insensitively."""
    parts = selector.split(".")
    for n in range(1, len(parts)):
        if _normal(".".join(parts[:n])) == normal_block:
            return parts[n:]
    return parts[1:]


def chunk_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
