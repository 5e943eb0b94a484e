"""Architectures as composed blocks, and their infinite-width NNGP and NTK kernels (Jacot et al. 2018).

    >>> from randfield.blocks import Dense, Elementwise, Residual, serial, kernels
    >>> arch = serial(Dense(2.0, 0.0), Elementwise("relu"), Dense(2.0, 0.0))
    >>> nngp, ntk = kernels(x1, x2, arch)

A block maps the KernelState (NNGP, NTK, diagonals) of its input to that of its output; a
new block is one AbstractBlock subclass with `kernel_map`.
"""

from .api import dense_network as dense_network
from .api import kernels as kernels
from .api import nngp as nngp
from .api import ntk as ntk
from .api import parse_architecture as parse_architecture
from .base import AbstractBlock as AbstractBlock
from .base import KernelState as KernelState
from .base import Serial as Serial
from .base import repeat as repeat
from .base import serial as serial
from .dense import Dense as Dense
from .dropout import Dropout as Dropout
from .elementwise import Elementwise as Elementwise
from .residual import ContinuousDepth as ContinuousDepth
from .residual import Residual as Residual
from .residual import residual_network as residual_network
from .reversible import RevCoupling as RevCoupling
