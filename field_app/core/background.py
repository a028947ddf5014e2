"""One call off the UI thread: network calls (login, duty, a photo) never block the screen.

`run_in_background(fn, on_done)` runs `fn()` on a daemon thread and then calls
`on_done(result, error)` on that thread; the UI wraps `on_done` to get back on its own
thread (Kivy's `mainthread`). Exactly one of `result` and `error` is meaningful.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

Done = Callable[[Any, Optional[BaseException]], None]


def run_in_background(
    fn: Callable[[], Any], on_done: Done, name: str = "gridops-call"
) -> threading.Thread:
    def work() -> None:
        try:
            result = fn()
        except Exception as err:  # handed to on_done, which shows it
            on_done(None, err)
            return
        on_done(result, None)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread
