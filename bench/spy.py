"""Reading a `py-spy record --format raw` profile: the top functions by samples.

Each line of the raw (collapsed) format is `frame;frame;...;frame COUNT`, outermost first.
A function's cumulative share counts every sample with it anywhere on the stack (once per
sample); its own share counts the samples where it is the innermost frame.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def _name(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"; line numbers vary per sample.
    func, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(where.split("/")[-2:]) if where else ""
    return f"{func} ({short})" if short else func


def summary(path: str | Path, top: int = 25, only: str = "") -> str:
    """A table of the `top` functions by cumulative samples (and their own samples).

    `only` keeps the stacks that contain a frame with this text (e.g. `push`).
    """
    cumulative: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_name(f) for f in stack.split(";")]
        if only and not any(only in f for f in frames):
            continue
        n = int(count)
        total += n
        for name in set(frames):
            cumulative[name] += n
        own[frames[-1]] += n
    if not total:
        return "no samples"
    rows = [f"{'cum %':>6} {'own %':>6}  function ({total:,} samples)"]
    for name, n in cumulative.most_common(top):
        rows.append(f"{100 * n / total:6.1f} {100 * own[name] / total:6.1f}  {name}")
    return "\n".join(rows)
