"""Coarse-to-fine tuning, the LR finder and the training guideline."""

__all__ = []
