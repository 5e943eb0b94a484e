import pytest
import torch


@pytest.fixture(autouse=True)
def float64_default():
    """The dynamics tests work in float64; restore the default so other test modules are unaffected."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
