"""changeproof: compliance as code for continuous delivery."""

__version__ = "0.1.0"
__all__ = ["__version__"]
