"""newsclean: repair scraped news text and deduplicate news corpora.

>>> from newsclean import clean_text
>>> clean_text("Microsoft?s plan []")
'Microsoft’s plan'
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["clean_text", "clean", "Cleaner", "CleanResult", "Edit", "clean_records", "__version__"]


def __getattr__(name: str):
    # Imported lazily so that `newsclean --help` and `import newsclean` stay fast.
    if name in ("clean_text", "clean", "Cleaner", "CleanResult"):
        from .clean import pipeline

        return getattr(pipeline, name)
    if name == "Edit":
        from .edits import Edit

        return Edit
    if name == "clean_records":
        from .engine.local import clean_records

        return clean_records
    raise AttributeError(f"module 'newsclean' has no attribute {name!r}")
