"""Baselines: methods that need no language model (`methods.METHODS`, uses "none" or "train").

Each predicts from real answers alone: other countries' answers to the question, the training
data's prior, or the same country's answer to a similar question. Importing this package
registers them.
"""
from . import model_free, knn, text_prior  # noqa: F401,I001  (registers the baselines, the simple ones first)
