"""Settings of newsclean runs: defaults now, and the run configuration.

Only the standard library is imported here, so the command line can take its
defaults from this module and still answer ``--help`` at once.
"""
from __future__ import annotations

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # a record larger than this is rejected (--max-bytes)
