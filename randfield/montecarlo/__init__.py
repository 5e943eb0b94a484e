"""Finite-width simulation of random networks in torch (CUDA when present, CPU otherwise)."""

from .compare import Comparison as Comparison
from .compare import bonferroni_z as bonferroni_z
from .compare import compare as compare
from .compare import theory_for as theory_for
from .empirical import DenseNetwork as DenseNetwork
from .empirical import MonteCarloEstimate as MonteCarloEstimate
from .empirical import default_device as default_device
from .empirical import empirical_ntk as empirical_ntk
from .empirical import monte_carlo_nngp as monte_carlo_nngp
from .empirical import monte_carlo_ntk as monte_carlo_ntk
from .simulate import SimulationConfig as SimulationConfig
from .simulate import SimulationResult as SimulationResult
from .simulate import great_circle_inputs as great_circle_inputs
from .simulate import simulate as simulate
