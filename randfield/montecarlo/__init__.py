"""Finite-width simulation of random networks in torch (CUDA when present, CPU otherwise)."""

from .empirical import DenseNetwork as DenseNetwork
from .empirical import MonteCarloEstimate as MonteCarloEstimate
from .empirical import default_device as default_device
from .empirical import empirical_ntk as empirical_ntk
from .empirical import monte_carlo_nngp as monte_carlo_nngp
from .empirical import monte_carlo_ntk as monte_carlo_ntk
