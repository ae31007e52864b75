"""``Library``: the open knowledge bases of one installation, by name.

The registry (``index.catalog``) says which knowledge bases exist and where; the library
opens each one on first use with its own embedding model and keeps it open, so a server
holding several knowledge bases loads every model once. Creating, renaming and deleting go
through the library so an open knowledge base is closed before its folder goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from index.catalog import BaseEntry, Catalog
from index.embed.protocol import Embedder
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings

EmbedderLoader = Callable[[IndexSettings], Embedder]
"""Loads the embedder named by ``settings.embedding_model`` (``index.embed.factory``)."""


def open_named(settings: IndexSettings, name: str, load: EmbedderLoader) -> KnowledgeBase:
    """Open the knowledge base ``name`` (``""``: the default one) of ``settings.data_dir``."""
    catalog = Catalog.open(settings.data_dir, settings.database_url)
    try:
        kb_settings = catalog.settings_for(catalog.get(name), settings)
    finally:
        catalog.close()
    return KnowledgeBase.open(kb_settings, load(kb_settings))


def delete_base(catalog: Catalog, settings: IndexSettings, name: str) -> BaseEntry:
    """Delete the (closed) knowledge base ``name``: its Milvus collection, if any, then its
    entry and folder. The collection goes first: a base left behind by an interruption
    rebuilds it from its database on the next open."""
    entry = catalog.get(name)
    if not entry.is_default:  # the catalog refuses to delete that one
        KnowledgeBase.discard(catalog.settings_for(entry, settings))
    return catalog.delete(name)


class Library:
    """Knowledge bases of one data folder, opened on demand and shared between threads."""

    def __init__(self, catalog: Catalog, settings: IndexSettings, load: EmbedderLoader) -> None:
        """Use ``open``."""
        self.catalog = catalog
        self.settings = settings
        self._load = load
        self._lock = threading.RLock()
        self._open: dict[int, KnowledgeBase] = {}
        self._embedders: dict[str, Embedder] = {}

    @classmethod
    def open(cls, settings: IndexSettings, load: EmbedderLoader) -> Library:
        """The library of ``settings.data_dir`` (its registry is created on first use)."""
        return cls(Catalog.open(settings.data_dir, settings.database_url), settings, load)

    def entries(self) -> list[BaseEntry]:
        """Every knowledge base, the default first."""
        return self.catalog.entries()

    def get(self, name: str | None = None) -> BaseEntry:
        """The entry called ``name`` (the default one for None or ``""``)."""
        return self.catalog.get(name)

    def base(self, entry: BaseEntry) -> KnowledgeBase:
        """``entry``'s knowledge base, opened with its own model on first use."""
        with self._lock:
            kb = self._open.get(entry.kb_id)
            if kb is None:
                settings = self.catalog.settings_for(entry, self.settings)
                kb = KnowledgeBase.open(settings, self._embedder(settings))
                self._open[entry.kb_id] = kb
            return kb

    def _embedder(self, settings: IndexSettings) -> Embedder:
        model = settings.embedding_model
        if model not in self._embedders:
            self._embedders[model] = self._load(settings)
        return self._embedders[model]

    def create(self, name: str, embedding_model: str | None = None) -> BaseEntry:
        """Register a new knowledge base (built with the run's model unless one is named)."""
        with self._lock:
            return self.catalog.create(name, embedding_model or self.settings.embedding_model)

    def rename(self, old: str, new: str) -> BaseEntry:
        """Rename a knowledge base; open handles stay valid."""
        with self._lock:
            return self.catalog.rename(old, new)

    def delete(self, name: str) -> BaseEntry:
        """Close and delete the knowledge base ``name`` with its files (``delete_base``)."""
        with self._lock:
            entry = self.catalog.get(name)
            kb = None if entry.is_default else self._open.pop(entry.kb_id, None)
            if kb is not None:  # the default one is refused below, and stays open
                kb.close()
            return delete_base(self.catalog, self.settings, name)

    def close(self) -> None:
        """Close every open knowledge base and the registry."""
        with self._lock:
            for kb in self._open.values():
                kb.close()
            self._open.clear()
            self.catalog.close()
