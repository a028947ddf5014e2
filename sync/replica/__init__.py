"""The device's local replica: one GeoPackage per account and hub (see `schema`).

`Replica(path)` opens or creates it. Actions (`actions`) change the local rows and queue
ops in one transaction; what the hub says (`apply`) comes in through `apply_changes`,
`apply_push_results` and `load_extract`; `core` reads tasks, the outbox and refusals.
Standard library only (Pillow, lazily, for photos): it runs inside QGIS and on Android.
"""

from __future__ import annotations

from .apply import ApplyMixin
from .core import Refused, ReplicaError, utc_now
from .photos import PhotoError, prepare_photo

__all__ = ["PhotoError", "Refused", "Replica", "ReplicaError", "prepare_photo", "utc_now"]


class Replica(ApplyMixin):
    """A device's replica file."""
