"""A keyed pseudo-random function for many inputs at once, and the record seeds built on it.

AES-128 under a key derived from the linkage secret maps each 16-byte block to a pseudo-random
one. It is used for every keyed choice that must be the same for the same input and independent
for different inputs: match-key tokens, dummies, bit flips and presence noise.
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
        """PRF of the 16-byte block (``first``, ``second``), elementwise.

        ``first`` and ``second`` broadcast against each other. Large inputs are done in slices
        of rows, so the blocks never take much memory at once. Callers use one key per purpose
        (and per token type), so no tag is needed inside the block.
        """
        first, second = np.broadcast_arrays(
            np.asarray(first, np.uint64), np.asarray(second, np.uint64)
        )
        out: Words = np.empty(first.shape, dtype=np.uint64)
        if first.size == 0:
            return out
        rows = first.reshape(first.shape[0], -1) if first.ndim else first.reshape(1, 1)
        others = second.reshape(rows.shape)
        result = out.reshape(rows.shape)
        step = max(_CHUNK_BLOCKS // max(rows.shape[1], 1), 1)
        for start in range(0, rows.shape[0], step):
            part = slice(start, start + step)
            words = np.empty((*rows[part].shape, 2), dtype="<u8")
            words[..., 0] = rows[part]
            words[..., 1] = others[part]
            result[part] = self(words.view(np.uint8).reshape(-1, 16)).reshape(rows[part].shape)
        return out
