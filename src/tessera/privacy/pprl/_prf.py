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
LOW60 = np.uint64((1 << 60) - 1)
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

    def combine(self, tag: int, first: Words, second: Words) -> Words:
        """PRF of (8-bit tag, 60 bits of ``first``, 60 bits of ``second``), elementwise.

        ``first`` and ``second`` broadcast against each other.
        """
        first, second = np.broadcast_arrays(
            np.asarray(first, np.uint64), np.asarray(second, np.uint64)
        )
        words = np.empty((*first.shape, 2), dtype="<u8")
        head = first & LOW60
        words[..., 0] = (np.uint64(tag) << np.uint64(56)) | (head >> np.uint64(4))
        words[..., 1] = ((head & np.uint64(0xF)) << np.uint64(60)) | (second & LOW60)
        return self(words.view(np.uint8).reshape(-1, 16)).reshape(first.shape)
