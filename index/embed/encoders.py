"""What runs a model over padded token ids: torch (CPU or GPU) or onnxruntime (CPU).

An encoder turns one padded batch of token ids into pooled, not yet normalised vectors
and brings the tokenizer and window length that go with it. ``SentenceTransformerEmbedder``
does everything around it (prompts, windowing, length-sorted batches, normalising), so
both backends embed exactly the same windows.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


class Encoder(Protocol):
    """A loaded model: its tokenizer, its longest input and its pooled vectors."""

    tokenizer: Any
    max_length: int
    dimension: int

    def pool(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Pooled vectors, shape ``(rows, dimension)``, of int64 ``(rows, length)`` inputs."""
        ...


class TorchEncoder:
    """A sentence-transformers folder run through torch, up to (not including) ``Normalize``."""

    def __init__(self, model_path: Path, device: str = "cpu", threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize

        if threads:
            torch.set_num_threads(threads)  # for the whole process: see the embedder's docs
        model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
        model.eval()
        dimension = model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{model_path}: the model does not declare its vector size")
        self.model: SentenceTransformer = model
        self.device = device
        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length or model.tokenizer.model_max_length)
        self.dimension = int(dimension)
        # Normalising comes after the windows of a text are combined.
        self._modules = [module for module in model if not isinstance(module, Normalize)]

    def pool(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Pooled vectors of one batch."""
        import torch

        features = {
            "input_ids": torch.from_numpy(input_ids).to(self.device),
            "attention_mask": torch.from_numpy(attention_mask).to(self.device),
        }
        with torch.inference_mode():
            for module in self._modules:
                features = module(features)
        return features["sentence_embedding"].float().cpu().numpy()


class OnnxEncoder:
    """An ONNX graph from token ids to pooled vectors, run by onnxruntime on the CPU.

    The graph takes ``input_ids`` and ``attention_mask`` and returns ``sentence_embedding``
    (pooled, not normalised), as ``index.embed.onnx_int8`` exports it; the tokenizer and
    window length come from the sentence-transformers folder it was exported from.
    """

    def __init__(self, graph: Path, model_path: Path, threads: int | None = None) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        self.max_length = _declared_max_length(model_path) or int(self.tokenizer.model_max_length)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def pool(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Pooled vectors of one batch."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        return np.asarray(self._session.run(["sentence_embedding"], inputs)[0], dtype=np.float32)


def _declared_max_length(model_path: Path) -> int | None:
    """``max_seq_length`` of a sentence-transformers folder's transformer module, if set."""
    config = model_path / "sentence_bert_config.json"
    if not config.is_file():
        return None
    value = json.loads(config.read_text("utf-8")).get("max_seq_length")
    return int(value) if value else None
