"""Latent ODEs for irregularly sampled series (Chen et al. 2018, §5), with the spirals they are tested on
and an RNN baseline."""

from .data import Spirals, make_spirals
from .models import LatentODE, RNNBaseline
from .train import MODELS, SeriesResult, fit_series, rmse

__all__ = ["LatentODE", "MODELS", "RNNBaseline", "SeriesResult", "Spirals", "fit_series", "make_spirals", "rmse"]
