"""The `hookwire` console script."""
