"""Dataclasses of numpy arrays saved as one ``.npy`` file per field in a folder.

Shards leave their features and term counts on disk this way, and the driver reads them
back memory-mapped: a worker and the client share files, never pickled arrays.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T", bound="ArrayFolder")


class ArrayFolder:
    """Mixin for a dataclass whose fields are all arrays."""

    def save(self, folder: Path) -> None:
        """One ``.npy`` per field in ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):  # type: ignore[arg-type]
            np.save(folder / f"{f.name}.npy", getattr(self, f.name), allow_pickle=False)

    @classmethod
    def load(cls: type[T], folder: Path, mmap: bool = False) -> T:
        """The arrays saved by :meth:`save`, memory-mapped with ``mmap``."""
        mode: Any = "r" if mmap else None
        return cls(**{f.name: np.load(folder / f"{f.name}.npy", mmap_mode=mode, allow_pickle=False)  # type: ignore
                      for f in fields(cls)})  # type: ignore[arg-type]
