"""The docstring examples of every module are tests too.

They run against the installed package (editable or not), module by module, so a
wheel install in CI checks the same examples a developer sees.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import newsclean

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(newsclean.__path__, prefix="newsclean.") if not m.name.endswith("__main__")
)


def test_modules_found():
    assert "newsclean.clean.lost_chars" in MODULES and "newsclean.dedup.minhash" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
