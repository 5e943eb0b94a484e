"""Array namespaces so that one definition of phi serves numpy arrays and torch tensors.

torch is imported only when a tensor is actually passed: theory commands never pay for it.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps


class NumpyOps:
    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    cosh = staticmethod(np.cosh)
    erf = staticmethod(sps.erf)
    sigmoid = staticmethod(sps.expit)
    where = staticmethod(np.where)
    sqrt = staticmethod(np.sqrt)

    @staticmethod
    def softplus(x):
        return np.logaddexp(0.0, x)

    @staticmethod
    def clip(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def constant(value, like):
        return np.full_like(np.asarray(like, dtype=np.float64), value)


class TorchOps:
    def __init__(self):
        import torch

        self.tanh, self.exp, self.expm1 = torch.tanh, torch.exp, torch.expm1
        self.sin, self.cos, self.erf, self.cosh = torch.sin, torch.cos, torch.special.erf, torch.cosh
        self.sigmoid, self.where, self.sqrt = torch.sigmoid, torch.where, torch.sqrt
        self.softplus = torch.nn.functional.softplus
        self.clip = torch.clamp

    @staticmethod
    def constant(value, like):
        import torch

        return torch.full_like(like, value)


_TORCH_OPS: TorchOps | None = None


def is_tensor(x) -> bool:
    return type(x).__module__.startswith("torch")


def ops_for(x):
    """The namespace matching x's array type."""
    global _TORCH_OPS
    if is_tensor(x):
        if _TORCH_OPS is None:
            _TORCH_OPS = TorchOps()
        return _TORCH_OPS
    return NumpyOps
