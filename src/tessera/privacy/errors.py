"""Errors raised by the privacy library."""


class PrivacyError(ValueError):
    """Bad input or a request the library refuses, with a message naming the problem."""


class BudgetExceededError(PrivacyError):
    """A query would spend more privacy budget than the ledger has left."""
