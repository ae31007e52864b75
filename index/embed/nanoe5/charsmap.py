"""Compile a per-codepoint normalisation table into a SentencePiece "precompiled charsmap".

The ``tokenizers`` library normalises SentencePiece-style text with a ``Precompiled``
normaliser whose only input is this binary blob. Writing the table that way keeps a
``tokenizer.json`` self-contained and fast (a byte trie walked in Rust) instead of
thousands of ``Replace`` rules.

Layout of the blob (little endian)::

    u32 trie_bytes | u32 units[trie_bytes / 4] | normalised strings, each NUL-terminated

``units`` is a darts-clone double array: walking byte ``c`` from a node at ``pos`` goes to
``pos ^ offset(unit) ^ c``; a unit stores its label (the byte that leads to it), whether
the node ends a key (``has_leaf``) and the XOR offset to its own children. A key's value
(the byte offset of its replacement string) sits at ``children_base ^ 0`` with the top bit
set, so it can never be mistaken for a child label.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

_LEAF_BIT = 1 << 31
_HAS_LEAF_BIT = 1 << 8
_MAX_OFFSET = 1 << 21  # offsets above this need darts-clone's extended encoding


@dataclass
class _Node:
    """A node of the byte trie before it is laid out."""

    children: dict[int, _Node] = field(default_factory=dict)
    value: int | None = None


def compile_charsmap(table: Mapping[str, str]) -> bytes:
    """Blob for ``tokenizers.normalizers.Precompiled`` replacing each key by its value.

    Keys are the strings to replace (here single codepoints), values their replacement
    (may be empty: the key is then deleted).
    """
    root, normalised = _build_trie(table)
    units = _lay_out(root)
    trie = struct.pack(f"<I{len(units)}I", 4 * len(units), *units)
    return trie + normalised


def _build_trie(table: Mapping[str, str]) -> tuple[_Node, bytes]:
    root = _Node()
    blob = bytearray()
    offsets: dict[str, int] = {}
    for key in sorted(table):
        replacement = table[key]
        if not key or "\0" in key or "\0" in replacement:
            raise ValueError(f"charsmap entries must be non-empty and NUL-free: {key!r}")
        if replacement not in offsets:
            offsets[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        node = root
        for byte in key.encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = offsets[replacement]
    return root, bytes(blob)


def _lay_out(root: _Node) -> list[int]:
    """Place every node so that all its children land on free slots of one unused base."""
    units = [0]
    used = bytearray(b"\1")  # slot 0 holds the root
    used_bases: set[int] = set()
    first_free = 1
    pending = [(0, root)]
    while pending:
        position, node = pending.pop()
        labels = sorted(node.children)
        slots = ([0] if node.value is not None else []) + labels
        if not slots:
            continue
        base = _free_base(used, used_bases, slots, first_free)
        offset = position ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap too large for the simple offset encoding")
        units[position] |= offset << 10
        used_bases.add(base)
        needed = (base | 0xFF) + 1  # a lookup may probe any byte of the base's block
        if needed > len(units):
            units.extend([0] * (needed - len(units)))
            used.extend(bytes(needed - len(used)))
        if node.value is not None:
            units[base] = _LEAF_BIT | node.value
            used[base] = 1
        for label in labels:
            child = node.children[label]
            units[base ^ label] = label | (_HAS_LEAF_BIT if child.value is not None else 0)
            used[base ^ label] = 1
            pending.append((base ^ label, child))
        while first_free < len(used) and used[first_free]:
            first_free += 1
    return units


def _free_base(used: bytearray, used_bases: set[int], slots: list[int], first_free: int) -> int:
    """A base not taken by another node whose slots are all free.

    Candidates put the first slot on each free position in turn, starting from the
    first free one, which keeps the array dense.
    """
    position = first_free
    while True:
        if position >= len(used) or not used[position]:
            base = position ^ slots[0]
            if (
                base > 0
                and base not in used_bases
                and all(base ^ slot >= len(used) or not used[base ^ slot] for slot in slots)
            ):
                return base
        position += 1
