"""Finite-width simulation of random networks in torch (CUDA when present, CPU otherwise)."""

from .backward import GradientNorms as GradientNorms
from .backward import gradient_norms as gradient_norms
from .compare import Comparison as Comparison
from .compare import bonferroni_z as bonferroni_z
from .compare import compare as compare
from .compare import theory_for as theory_for
from .depth_limit import DepthLimitSweep as DepthLimitSweep
from .depth_limit import resnet_depth_limit as resnet_depth_limit
from .domino import JacobianProducts as JacobianProducts
from .domino import jacobian_products as jacobian_products
from .empirical import DenseNetwork as DenseNetwork
from .empirical import MonteCarloEstimate as MonteCarloEstimate
from .empirical import default_device as default_device
from .empirical import empirical_ntk as empirical_ntk
from .empirical import monte_carlo_nngp as monte_carlo_nngp
from .empirical import monte_carlo_ntk as monte_carlo_ntk
from .engine import SimulationConfig as SimulationConfig
from .engine import SimulationResult as SimulationResult
from .engine import great_circle_inputs as great_circle_inputs
from .engine import simulate as simulate
from .spectra import jacobian_singular_values as jacobian_singular_values
