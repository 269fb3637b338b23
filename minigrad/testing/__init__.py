"""Helpers for testing code built on minigrad (imported on demand, never by ``import minigrad``).

- ``minigrad.testing.checked_backend``: a stand-in GPU whose arrays refuse to mix with
  NumPy's, so a test suite run on it proves an op never reaches around the backend.
"""
