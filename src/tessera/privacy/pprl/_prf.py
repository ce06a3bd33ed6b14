"""A keyed pseudo-random function for many inputs at once, and the record seeds built on it.

AES-128 under a key derived from the linkage secret maps each 16-byte block to a pseudo-random
one. It is used for every keyed choice that must be the same for the same input and independent
for different inputs: match-key tokens and the masks on them, dummies, bit flips.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

Words = npt.NDArray[np.uint64]
_CHUNK_BLOCKS = 1 << 17  # 2 MiB of blocks per AES call: stays in cache, no fresh pages


class Prf:
    """AES-128 as a pseudo-random function on 16-byte blocks (one call for many blocks)."""

    def __init__(self, key: bytes) -> None:
        self.key = key[:16]

    def blocks(self, blocks: npt.NDArray[np.uint8]) -> bytes:
        """The 16 output bytes of every input block (rows of 16 bytes), concatenated."""
        # ECB is not encrypting a message here: each block is one independent input of the
        # PRF, which is what a block cipher is.
        encryptor = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()  # noqa: S305
        return encryptor.update(np.ascontiguousarray(blocks).data) + encryptor.finalize()

    def __call__(self, blocks: npt.NDArray[np.uint8]) -> Words:
        """The first 64 bits (little-endian) of the output of every input block."""
        out: Words = np.frombuffer(self.blocks(blocks), dtype="<u8")[::2].astype(np.uint64)
        return out

    def pair(self, first: Words, second: Words) -> Words:
        """PRF of the 16-byte block (``first``, ``second``): its first 64 output bits.

        ``first`` and ``second`` broadcast against each other. Callers use one key per purpose
        (and per token type), so no tag is needed inside the block.
        """
        return self.pair_halves(first, second)[0]

    def pair_halves(self, first: Words, second: Words) -> tuple[Words, Words]:
        """Both 64-bit halves of the output of :meth:`pair`'s blocks.

        Large inputs are done in slices of rows, so the blocks never take much memory at once.
        """
        first, second = np.broadcast_arrays(
            np.asarray(first, np.uint64), np.asarray(second, np.uint64)
        )
        low: Words = np.empty(first.shape, dtype=np.uint64)
        high: Words = np.empty(first.shape, dtype=np.uint64)
        if first.size == 0:
            return low, high
        rows = first.reshape(first.shape[0], -1) if first.ndim else first.reshape(1, 1)
        others = second.reshape(rows.shape)
        low_rows, high_rows = low.reshape(rows.shape), high.reshape(rows.shape)
        step = max(_CHUNK_BLOCKS // max(rows.shape[1], 1), 1)
        for start in range(0, rows.shape[0], step):
            part = slice(start, start + step)
            words = np.empty((*rows[part].shape, 2), dtype="<u8")
            words[..., 0] = rows[part]
            words[..., 1] = others[part]
            out = np.frombuffer(self.blocks(words.view(np.uint8).reshape(-1, 16)), dtype="<u8")
            low_rows[part] = out[0::2].reshape(rows[part].shape)
            high_rows[part] = out[1::2].reshape(rows[part].shape)
        return low, high
