"""Optional cross-encoder reranking (sentence-transformers ``CrossEncoder``).

Off by default: no Chinese-capable cross-encoder ships inside a PyPI package, and models are
never downloaded at run time. Name a local model folder (or a model already in the Hugging
Face cache) in ``settings.reranker_model`` to turn it on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from index.errors import ConfigurationError, ModelNotFoundError

logger = logging.getLogger(__name__)

MAX_LENGTH = 512


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a cross-encoder loaded from local files only."""

    def __init__(self, model: str, batch_size: int = 16) -> None:
        from sentence_transformers import CrossEncoder  # heavy import, only when configured

        try:
            self._model = CrossEncoder(model, local_files_only=True, max_length=MAX_LENGTH)
        except OSError as error:
            raise ModelNotFoundError(
                f"无法加载重排序模型 {model}：{error}", f"cannot load the reranker {model}: {error}"
            ) from error
        except ValueError as error:  # a folder, but not of a model transformers knows
            raise ConfigurationError(
                f"重排序模型 {model} 不是可用的模型文件夹（YOUJU_RERANKER_MODEL）：{error}",
                f"the reranker {model} is not a usable model folder (YOUJU_RERANKER_MODEL): "
                f"{error}",
            ) from error
        self.batch_size = batch_size
        logger.info("loaded reranker %s", model)

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text, higher is better."""
        if not texts:
            return []
        pairs = [(query, text) for text in texts]
        scores = self._model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return [float(score) for score in scores]
