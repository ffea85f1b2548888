"""recgen: recommender systems built on autoencoders and GANs.

Data with honest splits, full-ranking evaluation, strong baselines, autoencoder and GAN
recommenders, synthetic user behaviour, and serving from saved models.
"""

__version__ = "0.1.0"


def load_model(path):  # type: ignore[no-untyped-def]
    """Load a saved model directory (see :meth:`recgen.models.Recommender.load`)."""
    from recgen.models.base import load_model as _load

    return _load(path)


__all__ = ["__version__", "load_model"]
