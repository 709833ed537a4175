"""newsclean: repair scraped news text and deduplicate news corpora.

>>> import newsclean
>>> newsclean.clean_text("Microsoft?s plan []")
'Microsoft’s plan'
>>> result = newsclean.clean("fromAmazonandIBM")
>>> result.text, [e.what for e in result.edits]
('from Amazon and IBM', ['glued words'])
"""
from __future__ import annotations

__version__ = "0.1.0"

# The stage modules are light (ftfy and the word list load on first use), so the
# pipeline is imported eagerly.  ``newsclean.clean`` is the sub-package of stages,
# made callable: ``newsclean.clean(text)`` returns a CleanResult.
from . import clean  # noqa: E402
from .clean.pipeline import Cleaner, CleanResult, clean_text  # noqa: E402
from .edits import Edit  # noqa: E402

__all__ = ["clean_text", "clean", "Cleaner", "CleanResult", "Config", "Edit", "clean_records", "__version__"]


def __getattr__(name: str):
    # imported when first used: the record loop and the configuration are not needed to clean a text
    if name == "clean_records":
        from .engine.local import clean_records

        return clean_records
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module 'newsclean' has no attribute {name!r}")
