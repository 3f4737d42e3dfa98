"""Torch only: the networks, preprocessing, losses and the PCA baseline (no web, no SQL)."""

from service.zoo.build import build_autoencoder
from service.zoo.nets import Autoencoder
from service.zoo.pca import pca_reconstruction_mse
from service.zoo.preprocess import Preprocessor, fit_preprocessor
from service.zoo.serving import ServingModel, load_serving_model, serving_config

__all__ = [
    "Autoencoder",
    "Preprocessor",
    "ServingModel",
    "build_autoencoder",
    "fit_preprocessor",
    "load_serving_model",
    "pca_reconstruction_mse",
    "serving_config",
]
