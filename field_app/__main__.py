"""`python -m field_app --server URL [--data DIR] [--size 1080x2340|720x1280] [--position lon,lat]`

Runs the field app on a desktop. `--size` makes the window a phone's portrait screen in
pixels, with that phone's density (1080×2340: 2.625, 720×1280: 2.0) unless
`KIVY_METRICS_DENSITY` is set; `--position` sets the desktop stand-in's GPS fix.
Kivy is configured before it is imported (its window is made on first use).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

SIZES = {"1080x2340": 2.625, "720x1280": 2.0}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m field_app", description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get("GRIDOPS_SERVER", ""), help="hub URL")
    parser.add_argument("--data", default=None, help="the app's data folder")
    parser.add_argument("--size", choices=sorted(SIZES), default=None, help="window size")
    parser.add_argument("--position", default=None, help="desktop GPS stand-in: lon,lat[,accuracy]")
    return parser.parse_args(argv)


def configure_kivy(size: Optional[str]) -> None:
    """Window size and density, before Kivy makes its window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if size:
        os.environ.setdefault("KIVY_METRICS_DENSITY", str(SIZES[size]))
    from kivy.config import Config

    if size:
        width, height = size.split("x")
        Config.set("graphics", "width", width)
        Config.set("graphics", "height", height)
    Config.set("input", "mouse", "mouse,multitouch_on_demand")


def main(argv: Optional[List[str]] = None) -> int:
    options = parse_args(argv)
    if options.position:
        from field_app.devices.desktop import parse_position

        try:
            parse_position(options.position)
        except ValueError as err:
            print(f"--position: {err}", file=sys.stderr)
            return 2
        os.environ["GRIDOPS_POSITION"] = options.position
    configure_kivy(options.size)
    from field_app.app import run

    run(data_dir=options.data, server=options.server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
