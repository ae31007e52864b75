"""The knowledge base as a LangChain ``BaseRetriever``, to plug into other chains.

Each ``Document`` is one numbered passage (neighbouring chunks merged) with its provenance
in ``metadata``: source file, exact character span in the original text, heading path,
page, score and chunk ids.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.answer.types import Passage
from assistant.retrieval.retriever import Mode
from assistant.service import Assistant


class KnowledgeBaseRetriever(BaseRetriever):
    """``retriever.invoke("问题")`` → the passages ``Assistant.retrieve`` would answer from."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int = 5
    mode: Mode = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages = self.assistant.retrieve(query, k=self.k, mode=self.mode)
        return [to_document(passage) for passage in passages]


def to_document(passage: Passage) -> Document:
    """A passage as a LangChain document with its provenance in ``metadata``."""
    return Document(
        page_content=passage.text,
        metadata={
            "source": passage.source,
            "start": passage.start,
            "end": passage.end,
            "heading_path": list(passage.heading_path),
            "page": passage.page,
            "score": passage.score,
            "n": passage.n,
            "chunk_ids": list(passage.chunk_ids),
        },
    )
