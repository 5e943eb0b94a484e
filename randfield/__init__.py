"""randfield: mean-field theory of random deep networks, checked by simulation.

Conventions: W^l_ij ~ N(0, sigma_w^2 / N_{l-1}), b^l_i ~ N(0, sigma_b^2),
h^{l+1} = W^{l+1} phi(h^l) + b^{l+1}, h^1 = W^1 x + b^1 with x in R^d, so
q^1 = sigma_w^2 |x|^2 / d + sigma_b^2; q is the mean squared pre-activation, c the
correlation of two inputs' pre-activations, z ~ N(0, 1).

    >>> import randfield as rf
    >>> float(rf.critical_sigma_w2("tanh", 0.05))   # order/chaos line
    1.76095...
"""

from . import init as init
from .activations import Activation as Activation
from .activations import available_activations as available_activations
from .activations import from_sympy as from_sympy
from .activations import from_torch as from_torch
from .activations import get_activation as get_activation
from .activations import register_activation as register_activation
from .backward import GradientStatistics as GradientStatistics
from .backward import gradient_depth_scale as gradient_depth_scale
from .backward import gradient_statistics as gradient_statistics
from .blocks import kernels as kernels
from .blocks import nngp as nngp
from .blocks import ntk as ntk
from .domino import DominoTheory as DominoTheory
from .domino import domino as domino
from .finite_width import ntk_fluctuations as ntk_fluctuations
from .fisher import FisherStatistics as FisherStatistics
from .fisher import fisher_statistics as fisher_statistics
from .maps import DepthScales as DepthScales
from .maps import NoFixedPointError as NoFixedPointError
from .maps import Propagation as Propagation
from .maps import chi1 as chi1
from .maps import correlation_fixed_point as correlation_fixed_point
from .maps import correlation_map as correlation_map
from .maps import correlation_map_slope as correlation_map_slope
from .maps import covariance_map as covariance_map
from .maps import critical_sigma_w2 as critical_sigma_w2
from .maps import depth_scales as depth_scales
from .maps import length_fixed_point as length_fixed_point
from .maps import length_map as length_map
from .maps import length_map_slope as length_map_slope
from .maps import propagate as propagate
from .maps import propagate_covariance as propagate_covariance
from .phase import PHASES as PHASES
from .phase import PhaseDiagram as PhaseDiagram
from .phase import phase_diagram as phase_diagram

__version__ = "0.1.0"
