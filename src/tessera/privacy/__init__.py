"""Privacy-preserving sharing: k-anonymity, DP statistics, DP synthetic data and PPRL.

A pure library: it imports nothing from Django, so it runs in the web app, the CLI and in
notebooks alike.
"""

from tessera.privacy.errors import BudgetExceededError, PrivacyError
from tessera.privacy.hierarchies import Hierarchy, hierarchy_from_config
from tessera.privacy.kanon import KAnonResult, KAnonSpec, k_anonymise

__all__ = [
    "BudgetExceededError",
    "Hierarchy",
    "KAnonResult",
    "KAnonSpec",
    "PrivacyError",
    "hierarchy_from_config",
    "k_anonymise",
]
