"""Safety checks on user input: the PHI guard."""

from assistant.safety.phi import Finding, GuardResult, PhiGuard
from assistant.safety.phi_vocabulary import KINDS

__all__ = ["KINDS", "Finding", "GuardResult", "PhiGuard"]
