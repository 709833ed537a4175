"""The report page: the Jinja2 template (package data) filled with :mod:`.views`.

Autoescaping is on for everything; record text reaches the template as plain
strings (never ``Markup``), so a ``<script>`` in an article is shown as text.  The
page also forbids scripts and fetches with a Content-Security-Policy, should an
escape ever be missed.
"""
from __future__ import annotations

from functools import lru_cache

import jinja2

from .charts import number
from .collect import RunData
from .views import context

TEMPLATE = "report.html.j2"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsclean.report", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["num"] = lambda v: "–" if v is None else number(v)
    env.filters["n"] = counted
    return env


def counted(value: int, noun: str) -> str:
    """``1,925 records``, ``1 record``.

    >>> counted(1, "event"), counted(1925, "record")
    ('1 event', '1,925 records')
    """
    return f"{number(value)} {noun}{'' if value == 1 else 's'}"


def render(data: RunData) -> str:
    """The report of a run folder's data, as HTML text."""
    return environment().get_template(TEMPLATE).render(**context(data))
