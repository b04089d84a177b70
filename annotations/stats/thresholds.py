"""How reliability coefficients are read: Krippendorff's thresholds and the
prevalence-paradox rule, one place for the Agreement page, its charts and
the methods paragraph."""

GOOD, TENTATIVE = 0.800, 0.667  # Krippendorff (2004, p. 241)
# High percent agreement with a kappa this much lower: the prevalence paradox
# (Feinstein & Cicchetti 1990), where AC1 is the number to read beside kappa.
PARADOX_AGREEMENT, PARADOX_GAP = 0.80, 0.20


def prevalence_paradox(agreement: float | None, kappa: float | None) -> bool:
    """Whether percent agreement and kappa diverge as the paradox makes them.

    >>> prevalence_paradox(0.9, 0.4), prevalence_paradox(0.9, 0.75)
    (True, False)
    >>> prevalence_paradox(0.7, 0.1), prevalence_paradox(0.9, None)
    (False, False)
    """
    return (
        agreement is not None
        and kappa is not None
        and agreement >= PARADOX_AGREEMENT
        and agreement - kappa >= PARADOX_GAP
    )
