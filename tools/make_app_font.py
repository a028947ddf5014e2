"""Builds the field app's font: Noto Sans CJK SC, subset for the app (SIL OFL 1.1).

    python tools/make_app_font.py [--source NotoSansCJK-Regular.ttc] [--output FILE]

Takes the Simplified Chinese face out of Debian's `fonts-noto-cjk` collection and keeps,
with fontTools' subsetter (`pyftsubset`'s engine): Latin (ASCII and Latin-1), general
punctuation, arrows, letterlike and enclosed forms, geometric shapes, symbols and dingbats
(✓ ⚠), CJK symbols and punctuation, every CJK Unified Ideograph (the main block, Extension
A and the compatibility ideographs: people's and places' names use rare characters such
as 堃, 喆, 玥, which a GB 2312 subset draws as boxes) and full-width forms. Writes
`field_app/fonts/NotoSansSC-GridOps.otf` and the licence beside it (`OFL.txt`, from the
package's copyright file), then checks that the characters the app needs are in it.

About 13 MB and a minute to build, so it is built (`make app-font`, a prerequisite of
`make test` and `make field-app`), not committed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FONTS = os.path.join(HERE, "..", "field_app", "fonts")
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
COPYRIGHT = "/usr/share/doc/fonts-noto-cjk/copyright"
OUTPUT = os.path.join(FONTS, "NotoSansSC-GridOps.otf")
FACE = "Noto Sans CJK SC"
RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 (± · ×)
    (0x2000, 0x206F),  # General Punctuation (… ‹ ›)
    (0x2100, 0x214F),  # Letterlike (℃ №)
    (0x2150, 0x218F),  # Number forms
    (0x2190, 0x21FF),  # Arrows
    (0x2460, 0x24FF),  # Enclosed alphanumerics (①)
    (0x25A0, 0x25FF),  # Geometric shapes
    (0x2600, 0x26FF),  # Miscellaneous symbols (⚠)
    (0x2700, 0x27BF),  # Dingbats (✓)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF00, 0xFFEF),  # Half-width and full-width forms
]
MUST_HAVE = "堃喆玥网格通任务同步已超期0123456789AZaz:✓⚠·…‹±（）：，。"


def face_index(path: str, name: str) -> int:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    for n, font in enumerate(collection.fonts):
        if font["name"].getDebugName(4) == name:
            return n
    raise SystemExit(f"{path} has no face named {name!r}")


def licence_text(copyright_path: str) -> str:
    """The SIL OFL 1.1 text of the Debian copyright file, as a plain text file."""
    with open(copyright_path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "License: SIL-1.1"
                 and i + 1 < len(lines) and lines[i + 1].startswith(" "))  # fmt: skip
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    head = [
        "NotoSansSC-GridOps.otf is a subset of Noto Sans CJK SC (Regular), made by",
        "tools/make_app_font.py from Debian's fonts-noto-cjk.",
        "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source';",
        "Noto is a trademark of Google Inc. Licensed under the SIL Open Font License 1.1:",
        "",
    ]
    return "\n".join(head + body) + "\n"


def build(source: str, output: str) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    index = face_index(source, FACE)
    options = subset.Options()
    options.font_number = index
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for lo, hi in RANGES for u in range(lo, hi + 1)])
    subsetter.subset(font)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    tmp = output + ".tmp"
    subset.save_font(font, tmp, options)
    with TTFont(tmp, lazy=True) as saved:
        cmap = saved.getBestCmap()
    missing = [c for c in MUST_HAVE if ord(c) not in cmap]
    if missing:
        os.remove(tmp)
        raise SystemExit(f"the subset lacks {''.join(missing)}")
    os.replace(tmp, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=SOURCE)
    parser.add_argument("--copyright", default=COPYRIGHT)
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args(argv)
    if not os.path.exists(args.source):
        print(f"{args.source} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    started = time.monotonic()
    build(args.source, args.output)
    with open(os.path.join(os.path.dirname(args.output), "OFL.txt"), "w", encoding="utf-8") as f:
        f.write(licence_text(args.copyright))
    size = os.path.getsize(args.output)
    print(
        f"wrote {os.path.normpath(args.output)}: {size / 1e6:.1f} MB in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
