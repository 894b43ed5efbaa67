"""DESIGN.md: apps are layered and imports only point downwards.

A domain's `api.py`, `views.py`, `urls.py` and `forms.py` are interface code that
lives beside its domain, so they sit in the interface layer."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
LAYERS = {
    "common": 0,
    "crypto": 1,
    "calendar": 1,
    "audit": 2,
    "notify": 2,
    "search": 2,
    "identity": 3,
    "workflow": 3,
    "catalog": 4,
    "seals": 4,
    "cases": 5,
    "hotline": 5,
    "ratings": 6,
    "licenses": 6,
    "api": 8,
    "interop": 8,
    "portal": 8,
    "console": 8,
    "demo": 9,
}
INTERFACE_MODULES = {"api", "views", "urls", "forms", "admin"}
INTERFACE_LAYER = 8


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "yiwang" or parts[1] not in LAYERS:
        return None
    if len(parts) > 2 and parts[2] in INTERFACE_MODULES:
        return max(LAYERS[parts[1]], INTERFACE_LAYER)
    return LAYERS[parts[1]]


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "tests" in rel.parts or "migrations" in rel.parts:
            continue
        yield ".".join(rel.parts).removesuffix(".__init__"), path


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_every_app_has_a_layer():
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists()}
    assert apps <= LAYERS.keys(), f"give these apps a layer: {apps - LAYERS.keys()}"


@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: str(v))
def test_imports_point_downwards(module, path):
    own = _layer(module)
    if own is None:
        return
    upward = [m for m in _imports(path) if (layer := _layer(m)) is not None and layer > own]
    assert not upward, f"{module} (layer {own}) imports upwards: {upward}"
