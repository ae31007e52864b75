"""Near-duplicate files: a file whose text nearly repeats an indexed file is not indexed.

Similarity is the Jaccard estimate of two near-duplicate signatures
(``cleaning.near_duplicate_similarity``). A file recorded as a duplicate stays one only
while its original is indexed; once the original is gone, the duplicate is indexed itself.
"""

from __future__ import annotations

from index.ingest.cleaning import near_duplicate_similarity
from index.storage.rows import StoredFile
from index.storage.store import Store

DUPLICATE_THRESHOLD = 0.9
"""Estimated Jaccard similarity at or above which a file is a near-duplicate."""


def duplicate_of(source: str, signature: bytes, signatures: dict[str, bytes]) -> str | None:
    """The first other source in ``signatures`` that ``source`` nearly repeats, or None."""
    for other, other_signature in signatures.items():
        if other == source:
            continue
        if near_duplicate_similarity(signature, other_signature) >= DUPLICATE_THRESHOLD:
            return other
    return None


def original_is_indexed(store: Store, duplicate: StoredFile) -> bool:
    """Whether the file that ``duplicate`` was found to repeat is still indexed."""
    original = store.stored_file(duplicate.duplicate_of or "")
    return original is not None and original.status == "indexed"
