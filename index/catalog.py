"""The installation's named knowledge bases: a small registry next to their folders.

A data folder holds ``catalog.sqlite3`` and one folder per knowledge base. The default
knowledge base (named 默认 until renamed) is the data folder itself, so a data folder made
before knowledge bases had names keeps working unchanged: the registry is created on first
use with that one entry. Other knowledge bases live in ``bases/<id>``, where ``id`` is the
registry's row number: renaming never moves files, and any name (Chinese included) works.

Each entry records the embedding model its knowledge base is built with; an empty model
(the default knowledge base of an older data folder) follows the run's setting. The
mismatch rule of ``KnowledgeBase.open`` applies per knowledge base.

With a PostgreSQL database (``IndexSettings.database_url``) the registry is its schema
``catalog`` and each knowledge base's records are the schema ``kb_default`` or ``kb_<id>``
(``schema_of``); the folders then hold only what each server derives from them (search
indexes) and its uploads.
"""

from __future__ import annotations

import shutil
import threading
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from index.errors import ConfigurationError, StoreError
from index.settings import DEFAULT_SCHEMA, IndexSettings
from index.storage import sql
from index.storage.database import (
    DATABASE_ERRORS,
    INTEGRITY_ERRORS,
    Address,
    Database,
    Migrations,
    drop_schema,
    open_database,
)

CATALOG_NAME = "catalog.sqlite3"
DEFAULT_NAME = "默认"
BASES_FOLDER = "bases"
MAX_NAME_CHARS = 64

CATALOG_SCHEMA = "catalog"

MIGRATIONS = Migrations(
    sqlite=(
        """
        CREATE TABLE knowledge_bases (
            kb_id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL UNIQUE,
            embedding_model TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        """,
    ),
    postgresql=(
        """
        CREATE TABLE knowledge_bases (
            kb_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            folder TEXT COLLATE "C" NOT NULL UNIQUE,
            embedding_model TEXT NOT NULL,
            created_at TEXT NOT NULL
                DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        );
        """,
    ),
)
"""Registry migrations; append, never edit (see ``index.storage.schema``)."""


@dataclass(frozen=True)
class BaseEntry:
    """One registered knowledge base.

    Attributes:
        kb_id: Stable number: grants and folders refer to it, so a rename changes nothing else.
        name: What people call it; unique.
        folder: Absolute folder of its database and indexes.
        embedding_model: The model it is built with; ``""`` follows the run's setting.
        created_at: UTC time of creation, ISO 8601.
        is_default: The knowledge base in the data folder itself, used when none is named.
    """

    kb_id: int
    name: str
    folder: Path
    embedding_model: str
    created_at: str
    is_default: bool


def checked_name(name: str) -> str:
    """``name`` trimmed and NFC-normalised, or ``ConfigurationError`` when unusable."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    bad = not cleaned or len(cleaned) > MAX_NAME_CHARS or "," in cleaned
    if bad or any(unicodedata.category(char).startswith("C") for char in cleaned):
        raise ConfigurationError(
            f"知识库名称“{name}”无效：应为 1 至 {MAX_NAME_CHARS} 个字，不含逗号和控制字符",
            f"invalid knowledge-base name “{name}”: use 1 to {MAX_NAME_CHARS} characters, "
            "no commas or control characters",
        )
    return cleaned


def schema_of(entry: BaseEntry) -> str:
    """The PostgreSQL schema of ``entry``'s records (unused with SQLite files)."""
    return DEFAULT_SCHEMA if entry.is_default else f"kb_{entry.kb_id}"


def _taken(name: str) -> ConfigurationError:
    return ConfigurationError(
        f"已有名为“{name}”的知识库", f"a knowledge base named “{name}” already exists"
    )


def _not_found(name: str) -> ConfigurationError:
    return ConfigurationError(
        f"没有名为“{name}”的知识库（youju kb list 列出全部知识库）",
        f"there is no knowledge base named “{name}” (youju kb list shows them all)",
    )


class Catalog:
    """The registry of one data folder; safe to share between threads."""

    def __init__(self, database: Database, data_dir: Path) -> None:
        """Use ``open``."""
        self._db = database
        self._lock = threading.RLock()
        self.data_dir = data_dir
        self.database_url = database.address.url

    @classmethod
    def open(cls, data_dir: Path, database_url: str = "") -> Catalog:
        """Open the registry of ``data_dir`` (or of the PostgreSQL database at
        ``database_url``), creating it with the default entry if needed."""
        data_dir = data_dir.resolve()
        address = Address(data_dir / CATALOG_NAME, CATALOG_SCHEMA, database_url)
        try:
            catalog = cls(open_database(address, MIGRATIONS), data_dir)
        except DATABASE_ERRORS as error:
            raise StoreError(
                f"{address}：无法打开知识库目录（{error}）",
                f"{address}: cannot open the knowledge-base registry ({error})",
            ) from error
        with catalog._write():  # one statement: servers starting together add it once
            catalog._db.execute(
                "INSERT INTO knowledge_bases (name, folder, embedding_model) "
                "SELECT ?, '.', '' WHERE NOT EXISTS (SELECT 1 FROM knowledge_bases) "
                "ON CONFLICT DO NOTHING",
                (DEFAULT_NAME,),
            )
        return catalog

    def close(self) -> None:
        """Close the registry's database."""
        with self._lock:
            self._db.close()

    def _write(self) -> AbstractContextManager[None]:
        return sql.transaction(self._db, self._lock)

    # -- reading ----------------------------------------------------------------------

    def entries(self) -> list[BaseEntry]:
        """Every knowledge base, the default first, then by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kb_id, name, folder, embedding_model, created_at FROM knowledge_bases "
                "ORDER BY folder != '.', name"
            ).fetchall()
        return [self._entry(row) for row in rows]

    def get(self, name: str | None = None) -> BaseEntry:
        """The knowledge base called ``name`` (the default one for None or ``""``)."""
        if not name:
            return self.entries()[0]
        with self._lock:
            row = self._db.execute(
                "SELECT kb_id, name, folder, embedding_model, created_at FROM knowledge_bases "
                "WHERE name = ?",
                (unicodedata.normalize("NFC", name).strip(),),
            ).fetchone()
        if row is None:
            raise _not_found(name)
        return self._entry(row)

    def by_id(self, kb_id: int) -> BaseEntry | None:
        """The knowledge base numbered ``kb_id``, or None when it was deleted."""
        return next((entry for entry in self.entries() if entry.kb_id == kb_id), None)

    def settings_for(self, entry: BaseEntry, base: IndexSettings) -> IndexSettings:
        """``base`` pointed at ``entry``'s folder, records and model."""
        model = entry.embedding_model or base.embedding_model
        return replace(
            base,
            data_dir=entry.folder,
            embedding_model=model,
            database_schema=schema_of(entry),
        )

    def _entry(self, row: tuple) -> BaseEntry:
        kb_id, name, folder, model, created_at = row
        path = (self.data_dir / folder).resolve()
        return BaseEntry(kb_id, name, path, model, created_at, folder == ".")

    # -- changing ---------------------------------------------------------------------

    def create(self, name: str, embedding_model: str) -> BaseEntry:
        """Register a new, empty knowledge base built with ``embedding_model``."""
        name = checked_name(name)
        try:
            with self._write():
                row = self._db.execute(
                    "INSERT INTO knowledge_bases (name, folder, embedding_model) "
                    "VALUES (?, ?, ?) RETURNING kb_id",
                    (name, f"pending-{name}", embedding_model),
                ).fetchone()
                kb_id = int(row[0])
                self._db.execute(
                    "UPDATE knowledge_bases SET folder = ? WHERE kb_id = ?",
                    (f"{BASES_FOLDER}/{kb_id}", kb_id),
                )
        except INTEGRITY_ERRORS as error:
            raise _taken(name) from error
        entry = self.get(name)
        entry.folder.mkdir(parents=True, exist_ok=True)
        return entry

    def rename(self, old: str, new: str) -> BaseEntry:
        """Give the knowledge base ``old`` the name ``new``; its files stay where they are."""
        entry = self.get(old)
        new = checked_name(new)
        try:
            with self._write():
                self._db.execute(
                    "UPDATE knowledge_bases SET name = ? WHERE kb_id = ?", (new, entry.kb_id)
                )
        except INTEGRITY_ERRORS as error:
            raise _taken(new) from error
        return self.get(new)

    def set_model(self, name: str, embedding_model: str) -> None:
        """Record that ``name`` is now built with ``embedding_model`` (after re-embedding)."""
        entry = self.get(name)
        with self._write():
            self._db.execute(
                "UPDATE knowledge_bases SET embedding_model = ? WHERE kb_id = ?",
                (embedding_model, entry.kb_id),
            )

    def delete(self, name: str) -> BaseEntry:
        """Forget the knowledge base ``name`` and delete its folder (not the default one).

        The caller closes it first. The entry goes before the files (and the records of a
        PostgreSQL database), so an interrupted delete leaves orphans, never an entry
        without its files.
        """
        entry = self.get(name)
        if entry.is_default:
            raise ConfigurationError(
                f"默认知识库“{entry.name}”不能删除（它就是数据文件夹本身）；可以删除其中的文件",
                f"the default knowledge base “{entry.name}” cannot be deleted (it is the data "
                "folder itself); delete its files instead",
            )
        with self._write():
            self._db.execute("DELETE FROM knowledge_bases WHERE kb_id = ?", (entry.kb_id,))
        if self.database_url:
            drop_schema(self.database_url, schema_of(entry))
        shutil.rmtree(entry.folder, ignore_errors=True)
        return entry
