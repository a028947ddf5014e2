"""Street offices' twin extracts built ahead, so that a connect downloads a file at once.

`GET /api/v1/twin/extract.gpkg` serves `<extracts>/<etag>.gpkg` when it exists and builds it
inside the request otherwise (`routes_data.extract`). A street office's scope holds tens of
thousands of features, seconds of building; `ExtractPrebuilder` builds those files ahead, in
a background thread of the hub: at start for what is missing, and again once the twin has
changed (the store's twin writes wake it; it also looks every `poll_s`, for writes made by
another process such as `gridops import-twin` and for grid changes). A scope's ETag must
hold still for `quiet_s` before its build, so an import in batches is built once, at its end.

Why the cursor a device gets stays exact (PROTOCOL.md: the extract's `X-Sync-Cursor` is the
feed position it reflects): a file is named by the ETag of the snapshot it was built from,
and the ETag (`store.twin_etag`) changes with every twin or grid change in the scope. The
route reads the ETag and the feed position from one snapshot at request time; when that
ETag names a file built earlier, no change in the scope happened between that build and
the request, so the file reflects the twin at the request's feed position as well, and a
device pulling on from that cursor neither misses nor doubles a twin change.

Scopes: the dispatcher's and the supervisor's of every street whose twin holds at least
`min_features` features (smaller extracts build within a request's budget; workers' grids
too). Both roles see the same features but their ETags differ (the scope is in it), so the
second file is a hard link to the first. A file superseded by a newer one of the same
street is removed `grace_s` later (a download of it may just have begun).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .. import model
from ..store import SQLiteStore
from .extract import BuildCancelled, build_extract

log = logging.getLogger("gridops.prebuild")
OFFICE = ("dispatcher", "supervisor")


@dataclass
class PrebuildSettings:
    # The background thread runs (`Hub` starts it). `gridops serve/demo --no-prebuild`, or
    # GRIDOPS_PREBUILD_EXTRACTS=0 in the environment of those commands, turns it off.
    enabled: bool = True
    min_features: int = 10_000  # a street's twin features from which its extract is built ahead
    quiet_s: float = 2.0  # a street's ETag holds this long before its build
    poll_s: float = 30.0  # looks this often without being woken
    grace_s: float = 120.0  # a superseded file stays this long


def _actor(role: str, street: str) -> model.Actor:
    # The extract and its ETag depend on the role and street only, never on the user.
    return model.Actor(id=f"prebuild:{role}", role=role, street_code=street)


class ExtractPrebuilder:
    """Builds the street offices' extracts into `folder` ahead of their first download."""

    def __init__(self, store: SQLiteStore, folder: Path, settings: PrebuildSettings) -> None:
        self.store = store
        self.folder = folder
        self.settings = settings
        self.built: list[Path] = []  # files this prebuilder wrote, oldest first
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple[tuple[str, ...], float]] = {}  # street -> ETags, since
        self._small: dict[str, tuple[str, ...]] = {}  # street -> ETags found under the floor
        self._failed: dict[tuple[str, ...], float] = {}  # ETags -> when their build failed
        self._retired: dict[Path, float] = {}  # superseded file -> when

    # ---------------------------------------------------------------- the thread

    def start(self) -> None:
        """Starts the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="gridops-extract-prebuild", daemon=True
            )
            self._thread.start()

    @property
    def running(self) -> bool:
        """True while the background thread runs (started, not stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """The twin changed: look again soon (returns at once; any thread)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stops the thread; a build under way is abandoned (its temporary file removed)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                pending = self.run_once()
            except Exception:  # a hub keeps serving; the next look tries again
                log.exception("building the street extracts ahead failed")
                pending = False
            wait = self.settings.quiet_s if pending else self.settings.poll_s

    # ---------------------------------------------------------------- one look

    def run_once(self, quiet: bool = True) -> bool:
        """Builds the extracts that are missing and whose ETag held still for `quiet_s`
        (any that are missing, with `quiet=False`), and removes superseded files past their
        grace. Returns True when some street is still waiting for its quiet time."""
        now = time.monotonic()
        pending = False
        streets = [
            r[0]
            for r in self.store.reader.execute(
                "SELECT DISTINCT street_code FROM grids WHERE street_code IS NOT NULL"
            )
        ]
        for street in streets:
            if self._stop.is_set():
                break
            with self.store.snapshot() as conn:
                etags = tuple(self.store.twin_etag(conn, _actor(r, street)) for r in OFFICE)
            seen = self._seen.get(street)
            if seen is None or seen[0] != etags:
                if seen is not None:
                    self._retire(seen[0], now)
                self._seen[street] = (etags, now)
                since = now
            else:
                since = seen[1]
            if all(self._path(e).exists() for e in etags) or self._small.get(street) == etags:
                continue
            if quiet and now - since < self.settings.quiet_s:
                pending = True
                continue
            failed = self._failed.get(etags)
            if quiet and failed is not None and now - failed < self.settings.poll_s:
                continue
            self._build(street, etags)
        self._sweep(now)
        return pending

    def _path(self, etag: str) -> Path:
        return self.folder / f"{etag}.gpkg"

    def _build(self, street: str, etags: tuple[str, ...]) -> None:
        count_sql = "SELECT COUNT(*) FROM twin WHERE street_code = ?"
        with self.store.snapshot() as conn:
            if conn.execute(count_sql, (street,)).fetchone()[0] < self.settings.min_features:
                self._small[street] = etags
                return
            # The ETags again, inside the snapshot the file is built from: a file must be
            # named by the state it holds, whatever changed since the look above.
            actors = [_actor(role, street) for role in OFFICE]
            paths = [self._path(self.store.twin_etag(conn, a)) for a in actors]
            have = next((p for p in paths if p.exists()), None)
            started = time.perf_counter()
            try:
                if have is None:
                    have = build_extract(
                        self.store, conn, actors[0], paths[0], should_stop=self._stop.is_set
                    )
                    self.built.append(have)
                for path in paths:
                    if not path.exists():
                        _link(have, path)
                        self.built.append(path)
            except BuildCancelled:
                return
            except (OSError, ValueError) as err:
                self._failed[etags] = time.monotonic()
                log.warning("street %s: building its extract ahead failed: %s", street, err)
                return
        log.info("street %s: extract built ahead in %.2f s", street, time.perf_counter() - started)

    def _retire(self, etags: tuple[str, ...], now: float) -> None:
        for etag in etags:
            path = self._path(etag)
            if path.exists():
                self._retired.setdefault(path, now)

    def _sweep(self, now: float) -> None:
        current = {self._path(e) for etags, _since in self._seen.values() for e in etags}
        for path, since in list(self._retired.items()):
            if path in current:  # current again (cannot happen while ETags only move on)
                del self._retired[path]
            elif now - since >= self.settings.grace_s:
                path.unlink(missing_ok=True)
                del self._retired[path]


def _link(source: Path, target: Path) -> None:
    """`target` becomes the same file as `source` (a hard link; a copy where links fail),
    appearing whole: made under a temporary name, then renamed."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
