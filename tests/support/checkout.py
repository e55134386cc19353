"""A copy of this checkout as a user's clone would have it: the files git tracks (and new files not
yet committed, so a test sees the change under test), nothing ignored (.venv, caches, build output)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file())


def copy_checkout(dest: Path) -> Path:
    """Copy the checkout's files into dest (created); returns dest."""
    for name in checkout_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target, follow_symlinks=False)
    return dest
