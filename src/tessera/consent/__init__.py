"""Consent per purpose (HTCDS con_Consent), given or withdrawn, with evidence and who recorded it."""
