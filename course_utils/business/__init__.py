"""Calculators for the business worksheets (Part III). Pure Python, NumPy and pandas; no TensorFlow.

Every function validates its inputs and raises ``ValueError`` naming the argument, the value
and the allowed range. Most accept NumPy arrays or pandas Series for sensitivity tables and
Monte Carlo runs.
"""
