"""Inter-coder agreement: a pure statistics engine (numpy only, no Django).

``coefficients.py`` holds the coefficients on a reliability matrix,
``formulas.py`` the same coefficients on additive sufficient statistics.
"""

from annotations.stats.coefficients import (
    bennett_s,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    weighted_kappa_linear,
    weighted_kappa_quadratic,
)
from annotations.stats.results import (
    RECORD_FIELDS,
    AgreementRecord,
    Coefficient,
    records_to_dicts,
)

__all__ = [
    "RECORD_FIELDS",
    "AgreementRecord",
    "Coefficient",
    "bennett_s",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "percent_agreement",
    "records_to_dicts",
    "scott_pi",
    "weighted_kappa_linear",
    "weighted_kappa_quadratic",
]
