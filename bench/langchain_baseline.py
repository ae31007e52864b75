"""The plain pipeline a user would otherwise write with LangChain, on our embedder.

``TextLoader`` per file → ``RecursiveCharacterTextSplitter()`` with its defaults (4,000
characters, 200 overlap) → ``FAISS.from_documents`` → ``similarity_search``. The only
deviations: ``add_start_index=True`` (metadata only, the split is the same) so a retrieved
chunk can be located in its file for the hit rule, and the embedder is ours, wrapped as a
LangChain ``Embeddings``, so the comparison is about everything *but* the model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.embed.protocol import Embedder

with warnings.catch_warnings():  # langchain-community announces its own sunset on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_community.document_loaders import TextLoader
    from langchain_community.vectorstores import FAISS


class ProductEmbeddings(Embeddings):
    """Our ``Embedder`` behind LangChain's ``Embeddings`` interface (same prompts, same model)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts, "document").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text], "query")[0].tolist()


@dataclass(frozen=True)
class Retrieved:
    """A chunk the baseline returned: its file (the ``source`` we gave) and character span."""

    source: str
    start: int
    end: int


class LangChainBaseline:
    """The pipeline above over a list of files, each named by its resolved path."""

    def __init__(self, store: FAISS, chunks: int, texts: dict[str, str]) -> None:
        self.store = store
        self.chunks = chunks
        self.texts = texts
        """The text each file was loaded as (to check spans point into the same text)."""

    @classmethod
    def build(
        cls,
        files: Sequence[Path],
        embedder: Embedder,
        splitter: RecursiveCharacterTextSplitter | None = None,
    ) -> LangChainBaseline:
        """Index ``files``; ``splitter`` defaults to LangChain's own defaults."""
        documents = []
        for path in files:
            documents += TextLoader(str(path), encoding="utf-8").load()
        for document in documents:
            document.metadata["source"] = str(Path(document.metadata["source"]).resolve())
        splitter = splitter or RecursiveCharacterTextSplitter(add_start_index=True)
        chunks = splitter.split_documents(documents)
        store = FAISS.from_documents(chunks, ProductEmbeddings(embedder))
        texts = {d.metadata["source"]: d.page_content for d in documents}
        return cls(store, len(chunks), texts)

    def search(self, question: str, k: int) -> list[Retrieved]:
        found = self.store.similarity_search(question, k=k)
        return [
            Retrieved(
                d.metadata["source"],
                d.metadata["start_index"],
                d.metadata["start_index"] + len(d.page_content),
            )
            for d in found
        ]
