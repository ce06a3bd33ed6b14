"""Privacy-preserving record linkage with keyed, hardened Bloom-filter encodings."""
