"""Every resource the code refers to exists, in the source tree (the bundle copies the same
folders through ``paths``)."""

from __future__ import annotations

import re

from deeptrance_gui.core import paths
from deeptrance_gui.core.model.registry import SHIPPED_MODELS, available_models, get_spec, verify_checksum
from tests.conftest import ROOT


def test_paths_point_at_existing_files() -> None:
    assert paths.demo_clip_path().is_file()
    assert (paths.resources_dir() / "demo" / "LICENSE.txt").is_file()
    assert (paths.resources_dir() / "icons" / "deeptrance.png").is_file()
    assert (paths.shipped_models_dir() / "MODEL_CARD.md").is_file()
    assert (paths.shipped_models_dir() / "SHA256SUMS").is_file()


def test_every_shipped_model_verifies() -> None:
    assert set(SHIPPED_MODELS) <= set(available_models())
    for name in SHIPPED_MODELS:
        verify_checksum(get_spec(name))


def test_resources_named_in_code_exist() -> None:
    pattern = re.compile(r'resources_dir\(\) / "([^"]+)"(?: / "([^"]+)")?(?: / "([^"]+)")?')
    found = 0
    for source in (ROOT / "deeptrance_gui").rglob("*.py"):
        for match in pattern.finditer(source.read_text()):
            path = paths.resources_dir().joinpath(*[part for part in match.groups() if part])
            assert path.exists(), f"{source}: {path}"
            found += 1
    assert found >= 1
    spec = (ROOT / "packaging" / "deeptrance.spec").read_text()
    for folder in ("resources", "models"):
        assert f'"{folder}"' in spec
