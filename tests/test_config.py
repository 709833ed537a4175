"""The run configuration, the record function, the engine's ordered map, and the module layout."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from newsclean.config import (
    DEFAULT_MAX_BYTES,
    MIN_CLUSTERS,
    MIN_CONSISTENCY,
    Config,
    ConfigError,
    DedupConfig,
)
from newsclean.engine.executors import Engine
from newsclean.io.base import Item
from newsclean.records import Accepted, Rejected, clean_record

SRC = Path(__file__).resolve().parent.parent / "src"


def test_options_are_fields_of_the_same_name():
    config = Config.from_options(text_field="body", workers=3, keep="longest", threshold=0.8, events=True,
                                 event_threshold=0.3, skip=["layout"], output_format="text")
    assert config.read.text_field == "body" and config.run.workers == 3
    assert config.dedup.keep == "longest" and config.dedup.params.threshold == 0.8
    assert config.dedup.events is not None and config.dedup.events.threshold == 0.3
    assert config.clean.skip == ("layout",) and config.write.output_format == "text"
    assert Config.from_options(events=False).dedup.events is None
    with pytest.raises(TypeError, match="unknown option"):
        Config.from_options(no_such_option=1)


@pytest.mark.parametrize("options, message", [
    ({"keep": "best"}, "--keep must be one of"),
    ({"tweets": "some"}, "--tweets must be one of"),
    ({"skip": ["nonsense"]}, "--skip: unknown stage"),
    ({"unspin": "maybe"}, "--unspin must be one of"),
    ({"threshold": 1.5}, "--threshold must be in"),
    ({"engine": "cloud"}, "--engine must be one of"),
    ({"output_format": "xml"}, "--format must be jsonl or text"),
    ({"spin_lm": "model.gguf", "unspin": "off"}, "cannot be combined with --unspin off"),
])
def test_unusable_settings_are_refused_naming_the_option(options, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_options(**options)


def test_fingerprint_leaves_out_what_never_changes_a_result():
    a = Config.from_options(workers=1, engine="local", force=False, rejects="a.jsonl")
    b = Config.from_options(workers=8, scheduler="tcp://x:8786", force=True, keep_work=True, rejects="b.jsonl")
    assert b.run.engine == "dask"  # a scheduler implies Dask
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != Config.from_options(shard_size=1.0).fingerprint()  # how the .gz are cut
    assert a.fingerprint() != Config.from_options(threshold=0.8).fingerprint()
    assert "write" not in a.fingerprint()


def test_stats_parameters_keep_their_shape():
    params = Config(dedup=DedupConfig(cleaned_archive=True)).replace(events=True).stats_parameters()
    assert list(params)[:3] == ["keep", "events", "cleaned_archive"]
    assert params["threshold"] == 0.7 and params["event_threshold"] == 0.23


def test_the_command_line_defaults_are_the_librarys():
    from newsclean.io.readers import DEFAULT_MAX_BYTES as READER_MAX_BYTES
    from newsclean.spin.learn import MIN_CONSISTENCY as LEARN_MIN_CONSISTENCY
    from newsclean.spin.learn import learn_pairs

    assert DEFAULT_MAX_BYTES == READER_MAX_BYTES
    assert MIN_CONSISTENCY == LEARN_MIN_CONSISTENCY
    assert MIN_CLUSTERS == inspect.signature(learn_pairs).parameters["min_clusters"].default


class _Upper:
    stage_names = ("upper",)

    def clean(self, text):
        from newsclean.clean.pipeline import CleanResult

        if text == "boom":
            raise RuntimeError("stage bug")
        return CleanResult(text.upper())


def test_one_record_function_accepts_or_rejects_every_item():
    good = clean_record(Item("f", 1, {"id": 7, "text": "hi"}, None, b""), _Upper())
    assert isinstance(good, Accepted) and (good.id, good.id_value, good.text_field, good.after) == ("7", 7, "text", "HI")
    unread = clean_record(Item("f", 2, None, "not valid JSON", b"x"), _Upper())
    no_text = clean_record(Item("f", 3, {"id": "a"}, None, b""), _Upper())
    crash = clean_record(Item("f", 4, {"text": "boom"}, None, b""), _Upper())
    assert all(isinstance(r, Rejected) for r in (unread, no_text, crash))
    assert (unread.id, unread.reason) == ("f:2", "not valid JSON")
    assert no_text.id == "a" and "no text field" in no_text.reason
    assert crash.reason == "cleaning failed: RuntimeError: stage bug"


def _square(x: int) -> int:
    return x * x


def test_engine_imap_keeps_task_order_with_a_bounded_window():
    with Engine(2) as engine:
        assert list(engine.imap(_square, iter(range(50)), window=3)) == [x * x for x in range(50)]
    with Engine(1) as engine:
        assert list(engine.imap(_square, [3, 2], window=1)) == [9, 4]


def _module_imports(path: Path, module: str, is_package: bool) -> set[str]:
    """Modules of newsclean that ``module`` imports at module level (not its own parents)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
            found.update([name] + [f"{name}.{alias.name}" for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    parents = {module.rsplit(".", k)[0] for k in range(1, module.count(".") + 1)}
    return {name for name in found if name.startswith("newsclean") and name != module and name not in parents}


def test_no_module_level_import_cycle():
    modules = {}
    for path in (SRC / "newsclean").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = (path, is_package)
    graph = {name: {dep for dep in _module_imports(path, name, pkg) if dep in modules}
             for name, (path, pkg) in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in graph[name]:
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
