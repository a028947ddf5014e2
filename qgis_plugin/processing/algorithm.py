"""What every GridOps algorithm shares: the plugin's session, the replica it reads, and
attribute fields made the same way on QGIS 3.22 and 3.40.

The provider is built with a `session_provider` (a callable returning the plugin's current
`core.session.Session`, or None when the plugin is not connected) and hands it to each
algorithm, so an algorithm always sees the account that is connected when it runs, not the
one of the moment it was registered. Algorithms that read the replica also take an optional
`REPLICA` file: empty means the connected account's, and a file makes them usable in models
and scripts without the plugin connected. They open the file read-only on their own
connection (`core.stats.open_replica`), so they can run on a Processing thread.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable, Dict, Optional

from qgis.core import (
    Qgis,
    QgsField,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterFile,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

from ..core import stats

SessionProvider = Callable[[], Any]
REPLICA = "REPLICA"


def make_field(name: str, kind: str) -> QgsField:
    """A `QgsField` of kind "text", "int" or "real" (QMetaType from QGIS 3.38, where the
    QVariant constructor is deprecated; QVariant before)."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        meta = {"text": QMetaType.QString, "int": QMetaType.Int, "real": QMetaType.Double}
        return QgsField(name, meta[kind])
    variant = {"text": QVariant.String, "int": QVariant.Int, "real": QVariant.Double}
    return QgsField(name, variant[kind])


def help_text(*lines: str) -> str:
    """An algorithm's help from translated pieces (each short: pylupdate5 misses a literal
    that the formatter has to put on a line of its own with a trailing comma)."""
    return " ".join(lines)


class GridOpsAlgorithm(QgsProcessingAlgorithm):
    """Base of the GridOps algorithms."""

    def __init__(self, session_provider: Optional[SessionProvider] = None) -> None:
        super().__init__()
        self.session_provider = session_provider

    def createInstance(self) -> GridOpsAlgorithm:
        return type(self)(self.session_provider)

    def session(self) -> Any:
        return self.session_provider() if self.session_provider is not None else None

    def add_replica_parameter(self) -> None:
        self.addParameter(
            QgsProcessingParameterFile(
                REPLICA,
                QCoreApplication.translate(
                    "GridOps", "GridOps replica (empty: the connected account's)"
                ),
                extension="gpkg",
                optional=True,
            )
        )

    def replica_path(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        """The replica file chosen, else the connected session's; raises when there is none."""
        path = self.parameterAsFile(parameters, REPLICA, context)
        if not path:
            session = self.session()
            path = session.replica_path() if session is not None else None
        if not path:
            message = QCoreApplication.translate(
                "GridOps", "No GridOps replica: connect to the hub or choose a replica file."
            )
            raise QgsProcessingException(message)
        return str(path)

    @staticmethod
    def open_replica(path: str) -> sqlite3.Connection:
        """`stats.open_replica`, its errors as the message Processing shows."""
        try:
            return stats.open_replica(path)
        except (OSError, ValueError, sqlite3.Error) as exc:
            raise QgsProcessingException(str(exc)) from exc
