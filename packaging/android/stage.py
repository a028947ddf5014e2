"""Stages the folder that buildozer packages: the repository as it is, plus a `main.py`.

python-for-android starts the `main.py` at the top of the app's sources, while the app's
entry point is `field_app/main.py` and the repository's root has no `main.py`. So
`make apk` runs this script first: it fills `build/android/src/` (the spec's `source.dir`)
with a copy of `packaging/android/main.py` (a shim that runs `field_app.main`) and one
symbolic link per top-level entry of the repository. Buildozer follows links when it copies
the sources, so `packaging/buildozer.spec`'s include/exclude rules alone decide what the
APK holds; nothing is selected here. Hidden entries (`.venv`, `.git`) are left out, as
buildozer would skip them anyway, and so is `build/`, the staging folder's own parent (a
link to it would make the walk loop).

Usage: `python3 packaging/android/stage.py [DEST]` (default `build/android/src`). Standard
library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).resolve().with_name("main.py")
DEFAULT_DEST = REPO / "build" / "android" / "src"
SKIPPED = {"build"}


class StageError(Exception):
    """The staging folder cannot be made where it was asked for."""


def stage(dest: Path = DEFAULT_DEST, repo: Path = REPO) -> Path:
    """Replaces `dest` with the shim and links to `repo`'s top-level entries; returns it.

    Refuses a `dest` inside one of the linked entries or at the repository itself, where
    removing the old staging folder would remove real files.
    """
    dest = Path(dest).absolute()
    repo = Path(repo).resolve()
    if dest == repo or repo.is_relative_to(dest):
        raise StageError(f"refusing to stage into {dest}: it holds the repository")
    linked = [entry for entry in sorted(repo.iterdir()) if _linked(entry)]
    for entry in linked:
        if dest.resolve().is_relative_to(entry.resolve()):
            raise StageError(f"refusing to stage into {dest}: it is inside {entry}")
    if (repo / "main.py").exists():
        raise StageError(f"{repo / 'main.py'} exists: it would be shadowed by the shim")
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)  # removes the links themselves, never what they point to
    dest.mkdir(parents=True)
    shutil.copyfile(SHIM, dest / "main.py")
    for entry in linked:
        (dest / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    return dest


def _linked(entry: Path) -> bool:
    return not entry.name.startswith(".") and entry.name not in SKIPPED


def main(argv: list[str]) -> int:
    dest = Path(argv[1]) if len(argv) > 1 else DEFAULT_DEST
    try:
        print(stage(dest))
    except StageError as err:
        print(f"stage.py: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
