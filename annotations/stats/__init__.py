"""Inter-coder agreement: a pure statistics engine (numpy only, no Django).

The Django side gathers rows into an :class:`AgreementInput` and calls
:func:`compute_agreement`; everything else here is plain functions of plain
arrays, testable and benchmarkable alone. See ``agreement.py`` for the levels
and coefficients, ``unitizing.py`` for the definition of the unitizing
alphas, ``coefficients.py`` for the coefficients on a reliability matrix.
"""

from annotations.stats.agreement import LEVELS, compute_agreement
from annotations.stats.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
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
from annotations.stats.inputs import AgreementInput, SegmentRow, Variable
from annotations.stats.results import (
    RECORD_FIELDS,
    AgreementRecord,
    Coefficient,
    records_to_dicts,
)

__all__ = [
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "LEVELS",
    "RECORD_FIELDS",
    "AgreementInput",
    "AgreementRecord",
    "Coefficient",
    "SegmentRow",
    "Variable",
    "bennett_s",
    "cohen_kappa",
    "compute_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "percent_agreement",
    "records_to_dicts",
    "scott_pi",
    "weighted_kappa_linear",
    "weighted_kappa_quadratic",
]
