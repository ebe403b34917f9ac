"""Walking and editing a JSON document by paths (tuples of keys and indices), for the
mutators of the fuzz tests (tests/fuzzing.py for cases, tests/certificate_mutants.py for
certificates)."""

from __future__ import annotations

from typing import Any


def nodes(doc: Any, path: tuple = (), per_list: int | None = None) -> list[tuple[tuple, Any]]:
    """Every (path, value) of the document, the root first; ``per_list``: at most that many
    items of each list are walked."""
    out = [(path, doc)]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += nodes(v, path + (k,), per_list)
    elif isinstance(doc, list):
        for i, v in enumerate(doc if per_list is None else doc[:per_list]):
            out += nodes(v, path + (i,), per_list)
    return out


def replace(doc: Any, path: tuple, value: Any) -> Any:
    """The document with the value at ``path`` replaced (in place; the root when ``path`` is empty)."""
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc
