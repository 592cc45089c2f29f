"""Pack dist/DeepTrance into dist/DeepTrance-<version>-linux-x86_64.tar.gz and print sizes."""

from __future__ import annotations

import platform
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deeptrance_gui import __version__  # noqa: E402


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    bundle = ROOT / "dist" / "DeepTrance"
    if not bundle.is_dir():
        print("dist/DeepTrance is missing; run 'make package'", file=sys.stderr)
        return 1
    system = {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(platform.system(), "unknown")
    archive = ROOT / "dist" / f"DeepTrance-{__version__}-{system}-{platform.machine()}.tar.gz"
    started = time.monotonic()
    tmp = archive.with_suffix(".part")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname="DeepTrance")
    tmp.replace(archive)
    print(
        f"bundle {folder_size(bundle) / 1e6:.0f} MB unpacked; {archive.name} {archive.stat().st_size / 1e6:.0f} MB "
        f"(packed in {time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
