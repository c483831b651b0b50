"""hookwire: self-hosted webhook infrastructure that speaks the Svix API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
