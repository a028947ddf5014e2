"""Processing algorithm `gridops:exporttasks`: the replica's tasks, filtered by status, grid
and creation time, to a point layer (any feature sink: GeoPackage, temporary layer …)
and/or a CSV file.

The CSV is UTF-8 with a byte-order mark (`utf-8-sig`), so Excel opens the Chinese titles
as they are, with `lon` and `lat` columns (WGS 84) for the position. Both outputs carry the
same columns (`EXPORT_FIELDS`): the task's plain fields, the assignee's name, the closing
time (`core.stats.closed_at`), whether it is overdue now and how many photos it has. Times
are the hub's ISO 8601 UTC. The task lists (`photos`, `history`, `conflicts`) stay in the
replica: a spreadsheet cell is no place for them.

`select_tasks()` and `export_rows()` are plain functions over task dicts (tests use them).
"""

from __future__ import annotations

import csv
import os
import re
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication

from sync import model

from ..core import stats
from .algorithm import GridOpsAlgorithm, help_text, make_field

STATUSES = "STATUSES"
GRIDS = "GRIDS"
CREATED_FROM = "CREATED_FROM"
CREATED_TO = "CREATED_TO"
OUTPUT = "OUTPUT"
CSV = "CSV"
COUNT = "COUNT"
EXPORT_FIELDS = (
    ("id", "text"),
    ("kind", "text"),
    ("title", "text"),
    ("description", "text"),
    ("status", "text"),
    ("priority", "text"),
    ("lon", "real"),
    ("lat", "real"),
    ("grid_code", "text"),
    ("street_code", "text"),
    ("assignee_id", "text"),
    ("assignee", "text"),
    ("reporter_id", "text"),
    ("source", "text"),
    ("incident_id", "text"),
    ("due_at", "text"),
    ("created_at", "text"),
    ("updated_at", "text"),
    ("closed_at", "text"),
    ("overdue", "int"),
    ("version", "int"),
    ("photos", "int"),
)


def iso(value: Optional[datetime]) -> Optional[str]:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def split_codes(text: str) -> List[str]:
    """Grid codes typed as "JSL-01, JSL-02" (commas, semicolons or spaces)."""
    return [code for code in re.split(r"[\s,;，；]+", text or "") if code]


def select_tasks(
    tasks: Iterable[Dict[str, Any]],
    statuses: Sequence[str] = (),
    grids: Sequence[str] = (),
    created_from: Optional[datetime] = None,
    created_to: Optional[datetime] = None,
) -> List[Dict[str, Any]]:
    """The tasks in any of `statuses`, in any of `grids`, created within the range (both
    ends inclusive); an empty filter lets everything through. Pure."""
    chosen = []
    for task in tasks:
        if statuses and task.get("status") not in statuses:
            continue
        if grids and task.get("grid_code") not in grids:
            continue
        if created_from is not None or created_to is not None:
            created = model.parse_time(task.get("created_at"))
            if created is None:
                continue
            if created_from is not None and created < created_from:
                continue
            if created_to is not None and created > created_to:
                continue
        chosen.append(task)
    return chosen


def export_rows(
    tasks: Iterable[Dict[str, Any]], names: Dict[str, str], now: datetime
) -> List[Dict[str, Any]]:
    """The tasks as rows of `EXPORT_FIELDS`. Pure."""
    rows = []
    for task in tasks:
        row = {name: task.get(name) for name, _kind in EXPORT_FIELDS}
        assignee = task.get("assignee_id")
        row["assignee"] = names.get(assignee, assignee) if assignee else None
        row["closed_at"] = iso(stats.closed_at(task))
        row["overdue"] = int(stats.is_overdue(task, now))
        row["photos"] = len(task.get("photos") or [])
        rows.append(row)
    return rows


def write_csv(path: str, rows: Sequence[Dict[str, Any]]) -> None:
    """Writes `rows` to `path` as UTF-8 with BOM (Excel), replacing it only once complete."""
    partial = path + ".part"
    with open(partial, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([name for name, _kind in EXPORT_FIELDS])
        for row in rows:
            writer.writerow(["" if row[name] is None else row[name] for name, _ in EXPORT_FIELDS])
    os.replace(partial, path)


def status_options() -> List[str]:
    from ..core.task_table import status_labels

    labels = status_labels()
    return [f"{labels.get(code, code)} ({code})" for code in model.STATUSES]


class ExportTasksAlgorithm(GridOpsAlgorithm):
    """Tasks to a layer and/or a CSV file."""

    def name(self) -> str:
        return "exporttasks"

    def displayName(self) -> str:
        return QCoreApplication.translate("GridOps", "Export tasks")

    def shortHelpString(self) -> str:
        return help_text(
            QCoreApplication.translate(
                "GridOps", "Exports the replica's tasks to a point layer and/or a CSV file."
            ),
            QCoreApplication.translate(
                "GridOps", "Filters: statuses, grid codes and creation time."
            ),
            QCoreApplication.translate(
                "GridOps", "The CSV is UTF-8 with BOM (Excel shows Chinese) with lon/lat columns."
            ),
        )

    def initAlgorithm(self, config: Any = None) -> None:
        self.add_replica_parameter()
        self.addParameter(
            QgsProcessingParameterEnum(
                STATUSES,
                QCoreApplication.translate("GridOps", "Statuses (none: all)"),
                options=status_options(),
                allowMultiple=True,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                GRIDS,
                QCoreApplication.translate("GridOps", "Grid codes, comma-separated (empty: all)"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterDateTime(
                CREATED_FROM,
                QCoreApplication.translate("GridOps", "Created from"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterDateTime(
                CREATED_TO,
                QCoreApplication.translate("GridOps", "Created until"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                OUTPUT,
                QCoreApplication.translate("GridOps", "Tasks"),
                QgsProcessing.TypeVectorPoint,
                optional=True,
                createByDefault=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                CSV,
                QCoreApplication.translate("GridOps", "CSV file"),
                fileFilter="CSV (*.csv)",
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(QgsProcessingOutputNumber(COUNT, "count"))

    def _time(self, parameters: Dict[str, Any], name: str, context: Any) -> Optional[datetime]:
        if parameters.get(name) in (None, ""):
            return None
        value = self.parameterAsDateTime(parameters, name, context)
        if not value.isValid():
            return None
        return datetime.fromtimestamp(value.toMSecsSinceEpoch() / 1000.0, tz=timezone.utc)

    def processAlgorithm(
        self, parameters: Dict[str, Any], context: Any, feedback: Any
    ) -> Dict[str, Any]:
        path = self.replica_path(parameters, context)
        statuses = [model.STATUSES[i] for i in self.parameterAsEnums(parameters, STATUSES, context)]
        grids = split_codes(self.parameterAsString(parameters, GRIDS, context))
        created_from = self._time(parameters, CREATED_FROM, context)
        created_to = self._time(parameters, CREATED_TO, context)
        if created_from and created_to and created_from > created_to:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "The range is empty: “created from” is after “created until”."
                )
            )
        csv_path = self.parameterAsFileOutput(parameters, CSV, context)
        conn = self.open_replica(path)
        try:
            known = {g["code"] for g in stats.read_grids(conn)}
            unknown = [code for code in grids if code not in known]
            if unknown:
                raise QgsProcessingException(
                    QCoreApplication.translate(
                        "GridOps", "No such grid in the replica: {codes} (it has {known})."
                    ).format(codes=", ".join(unknown), known=", ".join(sorted(known)))
                )
            tasks = select_tasks(stats.read_tasks(conn), statuses, grids, created_from, created_to)
            rows = export_rows(tasks, stats.user_names(conn), stats.utc_now())
        finally:
            conn.close()
        fields = QgsFields()
        for name, kind in EXPORT_FIELDS:
            fields.append(make_field(name, kind))
        sink, dest_id = self.parameterAsSink(
            parameters,
            OUTPUT,
            context,
            fields,
            QgsWkbTypes.Point,
            QgsCoordinateReferenceSystem("EPSG:4326"),
        )
        if sink is None and not csv_path:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "Choose where to export: a layer, a CSV file or both."
                )
            )
        results: Dict[str, Any] = {COUNT: len(rows)}
        if sink is not None:
            for index, row in enumerate(rows):
                if feedback.isCanceled():
                    break
                feature = QgsFeature(fields)
                feature.setAttributes([row[name] for name, _kind in EXPORT_FIELDS])
                if row["lon"] is not None and row["lat"] is not None:
                    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(row["lon"], row["lat"])))
                if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                    raise QgsProcessingException(self.writeFeatureError(sink, parameters, OUTPUT))
                feedback.setProgress(90.0 * (index + 1) / max(1, len(rows)))
            results[OUTPUT] = dest_id
        if csv_path and not feedback.isCanceled():
            try:
                write_csv(csv_path, rows)
            except OSError as exc:
                raise QgsProcessingException(
                    QCoreApplication.translate("GridOps", "Cannot write {path}: {error}").format(
                        path=csv_path, error=exc
                    )
                ) from exc
            results[CSV] = csv_path
        feedback.setProgress(100.0)
        feedback.pushInfo(
            QCoreApplication.translate("GridOps", "{count} task(s) exported.").format(
                count=len(rows)
            )
        )
        return results
