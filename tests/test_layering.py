"""The layers import downward only: ckks.ring <- ckks <- henn <- edss; ckks never imports torch."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Rank of each layer; a module may import only from layers of equal or lower rank.
# ckks.errors depends on nothing and is shared by every layer, so it ranks lowest.
LAYERS = {"ckks.errors": 0, "ckks.ring": 1, "ckks": 2, "henn": 3, "edss": 4}


def layer_of(module: str) -> str | None:
    for name in sorted(LAYERS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def imported_modules(path: pathlib.Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.rsplit(".", node.level)[0]
                found.append(f"{package}.{node.module}" if node.module else package)
            else:
                found.append(node.module)
    return found


def source_modules():
    for package in ("ckks", "henn", "edss"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield path, ".".join(parts)


@pytest.mark.parametrize(("path", "module"), list(source_modules()), ids=lambda v: str(v))
def test_imports_point_down(path, module):
    own = LAYERS[layer_of(module)]
    for imported in imported_modules(path, module):
        target = layer_of(imported)
        if target is not None:
            assert LAYERS[target] <= own, f"{module} imports {imported} from a higher layer"
        if layer_of(module) in ("ckks", "ckks.ring", "ckks.errors"):
            assert imported.split(".")[0] != "torch", f"{module} imports torch"


def test_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import henn.compiler\nfrom edss import cli\n")
    targets = [layer_of(m) for m in imported_modules(bad, "ckks.ring.bad")]
    assert targets == ["henn", "edss"]
    assert all(LAYERS[t] > LAYERS["ckks.ring"] for t in targets)


def test_importing_ckks_does_not_load_torch():
    code = "import sys, ckks, ckks.ring.ntt; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "False"
