"""Normalising flows: continuous (CNF, exact or Hutchinson trace, any gradient mode) and planar, with the
2-D toy data and density-matching targets they are trained on."""

from .cnf import CNF, ConcatSquash, TimeField
from .data import DATASETS, TARGETS, sample_toy, target_log_density
from .planar import PlanarFlow
from .train import FitResult, fit_density, fit_density_matching

__all__ = [
    "CNF",
    "ConcatSquash",
    "DATASETS",
    "FitResult",
    "PlanarFlow",
    "TARGETS",
    "TimeField",
    "fit_density",
    "fit_density_matching",
    "sample_toy",
    "target_log_density",
]
