"""Model, optimizer, data and ensemble recipes."""

__all__ = []
