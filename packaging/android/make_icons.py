"""Draws the APK's launcher icon and presplash with Pillow (no text, so no font needed).

A blue tile with a white 3×3 grid (the worker's grid) and an orange pin (the task), and
the same mark centred on a blue presplash. Run it again after changing the drawing:
`.venv/bin/python packaging/android/make_icons.py`; it writes `icon.png` (512×512) and
`presplash.jpg` (1080×1920) beside itself, the files `packaging/buildozer.spec` names.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BLUE = (21, 101, 192)
WHITE = (255, 255, 255)
ORANGE = (255, 143, 0)
ICON_SIZE = 512
PRESPLASH_SIZE = (1080, 1920)


def draw_mark(size: int, tile: bool) -> Image.Image:
    """The mark on a `size`-pixel square: a rounded blue tile if `tile`, else transparent."""
    scale = 4  # drawn large, then downsampled: smooth edges without antialiasing support
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if tile:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 6, fill=BLUE)
    margin, line = big * 0.2, max(2, big // 40)
    span = big - 2 * margin
    for i in range(4):
        offset = margin + span * i / 3
        draw.line((margin, offset, big - margin, offset), fill=WHITE, width=line)
        draw.line((offset, margin, offset, big - margin), fill=WHITE, width=line)
    # the pin stands on the centre cell's lower edge
    cx, tip = big / 2, margin + span * 2 / 3
    radius = span / 7
    head = tip - radius * 2.2
    draw.polygon(
        [
            (cx - radius * 0.8, head + radius * 0.6),
            (cx + radius * 0.8, head + radius * 0.6),
            (cx, tip),
        ],
        fill=ORANGE,
    )
    draw.ellipse((cx - radius, head - radius, cx + radius, head + radius), fill=ORANGE)
    draw.ellipse(
        (cx - radius * 0.4, head - radius * 0.4, cx + radius * 0.4, head + radius * 0.4),
        fill=WHITE,
    )
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    draw_mark(ICON_SIZE, tile=True).save(HERE / "icon.png", optimize=True)
    splash = Image.new("RGB", PRESPLASH_SIZE, BLUE)
    mark = draw_mark(PRESPLASH_SIZE[0] // 2, tile=False)
    left = (PRESPLASH_SIZE[0] - mark.width) // 2
    top = (PRESPLASH_SIZE[1] - mark.height) // 2
    splash.paste(mark, (left, top), mark)
    splash.save(HERE / "presplash.jpg", quality=90, optimize=True)
    print(HERE / "icon.png", HERE / "presplash.jpg")


if __name__ == "__main__":
    main()
