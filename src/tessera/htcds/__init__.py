"""HTCDS 2.0 as package data: the field catalogue, picklists, validation and the JSON Schema.

No models here: everything is generated from IOM's reference CSVs by `python -m tessera.htcds.generate`.
"""
