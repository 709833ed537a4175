"""Cleaning stages: each a pure function ``text -> (text, edits)``.

Every stage module offers ``fix_x(text) -> str`` and ``fix_x_and_explain(text) ->
(text, edits)``; :mod:`newsclean.clean.pipeline` chains them.

This package is also callable: ``newsclean.clean(text)`` cleans one text with the
default pipeline and returns a :class:`~newsclean.clean.pipeline.CleanResult`, while
``import newsclean.clean.markup`` still reaches the stage modules.
"""
from __future__ import annotations

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, text: str):
        from .pipeline import clean

        return clean(text)


sys.modules[__name__].__class__ = _CallablePackage
