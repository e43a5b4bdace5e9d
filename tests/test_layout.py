"""The package's imports run one way, down the pipeline's stages: no stage imports a later one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "selftt"

LAYERS = [
    ["errors", "utils", "languages", "config_checks", "unknown_key"],
    ["tasks", "modules"],
    ["translation"],
    ["datamodules"],
    ["evaluation"],
    ["training", "report"],
    ["cli", "__main__", "__init__"],
]
"""Bottom to top. A part imports lower layers only, and its own layer's parts where SAME_LAYER_ALLOWED says."""
SAME_LAYER_ALLOWED = {("utils", "errors"), ("languages", "errors"), ("config_checks", "errors"), ("__main__", "cli")}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {n.split(".")[1] if "." in n else n for n in names if n.split(".")[0] == "selftt" and "." in n}
    return found


def test_every_import_goes_down_the_stages():
    layer = {part: i for i, parts in enumerate(LAYERS) for part in parts}
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        src = _part(path)
        assert src in layer, f"{path}: a new top-level part; add it to LAYERS"
        for dst in _imports(path) - {src}:
            if layer[dst] > layer[src] or (layer[dst] == layer[src] and (src, dst) not in SAME_LAYER_ALLOWED):
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports selftt.{dst}")
    assert not wrong, "imports against the stage order:\n" + "\n".join(sorted(wrong))
