"""Cleaning stages: each a pure function ``text -> (text, edits)``.

Every stage module offers ``fix_x(text) -> str`` and ``fix_x_and_explain(text) ->
(text, edits)``; :mod:`newsclean.clean.pipeline` chains them.
"""
