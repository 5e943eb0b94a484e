"""Learnt dynamics models, one registered class per file: node, hnn, dgnet (hnn.py), srnn."""

from .base import MODELS, DynamicsModel, available_models, get_model, register_model
from .hnn import HNN, DGNet
from .node import NeuralODE
from .srnn import SRNN

__all__ = [
    "DGNet",
    "DynamicsModel",
    "HNN",
    "MODELS",
    "NeuralODE",
    "SRNN",
    "available_models",
    "get_model",
    "register_model",
]
