"""Processing algorithm `gridops:importtwin`: an office's vector layer (points, lines or
polygons) sent to the hub as twin features (`POST /api/v1/twin/features`, PROTOCOL.md).

The person maps their fields: the id (required), the kind (a field, or one kind for the
whole layer, or both: the field's value, the fixed kind where the field is empty), the name
and the status; the other attributes go along as properties unless turned off. Points go to
`components`, lines to `pipelines`, polygons to `areas` (or the layer chosen). Geometries are
transformed to the hub's EPSG:4326 (lon/lat), Z and M dropped, one-part multipoints made
points.

All or nothing for what is known here: every feature is checked first
(`core.twin_upload.find_bad`: no geometry, no id, no kind, a duplicate id, a geometry the
layer does not take, a position outside WGS 84); if any is bad, each is reported and nothing
is sent. The features then go in batches; the progress bar follows, a cancel stops between
batches, and a batch the hub refuses stops the import with the hub's message (what was sent
before it stays: features are upserted by id, so running the import again is safe).

The account: an admin's. When the plugin is connected as an admin, its session is used; else
(or for another hub) an authentication configuration from QGIS's authentication database
(Basic: username and password), so the password is never a plain parameter that a model,
the Processing history or a log would keep. Only the configuration's id is.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Set, Tuple

from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeature,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QDate, QDateTime, QTime, QVariant

from sync.client import HubError, Offline

from ..core import twin_upload
from .algorithm import GridOpsAlgorithm, help_text

INPUT = "INPUT"
TARGET = "TARGET"
ID_FIELD = "ID_FIELD"
KIND_FIELD = "KIND_FIELD"
KIND = "KIND"
NAME_FIELD = "NAME_FIELD"
STATUS_FIELD = "STATUS_FIELD"
OTHER_FIELDS = "OTHER_FIELDS"
HUB_URL = "HUB_URL"
AUTH = "AUTH"
BATCH_SIZE = "BATCH_SIZE"
TARGETS = ("", "components", "pipelines", "areas")  # "" = by the geometry
RESERVED = {"id", "layer", "kind", "name", "grid_code", "street_code", "status"}
MAX_REPORTED = 50  # bad features listed one by one; the rest are counted
READ_SHARE = 30.0  # % of the progress bar for reading and checking


def plain(value: Any) -> Any:
    """An attribute value as plain JSON: NULL → None, dates → ISO text; NaN stays NaN (the
    check reports it)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, QDateTime):
        return value.toString("yyyy-MM-ddTHH:mm:ss") if value.isValid() else None
    if isinstance(value, QDate):
        return value.toString("yyyy-MM-dd") if value.isValid() else None
    if isinstance(value, QTime):
        return value.toString("HH:mm:ss") if value.isValid() else None
    if isinstance(value, (bytes, bytearray)):
        return value  # refused by the check: binary is no JSON
    return value


def text_of(value: Any) -> Optional[str]:
    """An id, kind, name or status value as text (12.0 → "12"), or None when empty."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def geometry_json(geometry: QgsGeometry) -> Optional[Dict[str, Any]]:
    """A (transformed) geometry as GeoJSON, 2D, a one-part multipoint as a point; None when
    there is no geometry."""
    if geometry is None or geometry.isNull() or geometry.isEmpty():
        return None
    shape = geometry.constGet().clone()
    shape.dropZValue()
    shape.dropMValue()
    flat = QgsWkbTypes.flatType(shape.wkbType())
    if flat == QgsWkbTypes.MultiPoint and shape.numGeometries() == 1:
        shape = shape.geometryN(0).clone()
    return dict(json.loads(QgsGeometry(shape).asJson(9)))


class ImportTwinAlgorithm(GridOpsAlgorithm):
    """A vector layer into the hub's twin layers."""

    def name(self) -> str:
        return "importtwin"

    def displayName(self) -> str:
        return QCoreApplication.translate("GridOps", "Import layer as twin features")

    def shortHelpString(self) -> str:
        return help_text(
            QCoreApplication.translate(
                "GridOps", "Sends a layer to the GridOps hub as twin features, updated by id."
            ),
            QCoreApplication.translate(
                "GridOps", "Points go to components, lines to pipelines, polygons to areas."
            ),
            QCoreApplication.translate(
                "GridOps", "Account: the connected admin, or an admin's authentication (Basic)."
            ),
            QCoreApplication.translate(
                "GridOps", "Every feature is checked first; if any is bad, nothing is sent."
            ),
        )

    def initAlgorithm(self, config: Any = None) -> None:
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                INPUT,
                QCoreApplication.translate("GridOps", "Layer to import"),
                [
                    QgsProcessing.TypeVectorPoint,
                    QgsProcessing.TypeVectorLine,
                    QgsProcessing.TypeVectorPolygon,
                ],
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                TARGET,
                QCoreApplication.translate("GridOps", "Twin layer"),
                options=[
                    QCoreApplication.translate("GridOps", "By geometry"),
                    QCoreApplication.translate("GridOps", "Components (points)"),
                    QCoreApplication.translate("GridOps", "Pipelines (lines)"),
                    QCoreApplication.translate("GridOps", "Areas (polygons)"),
                ],
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                ID_FIELD,
                QCoreApplication.translate("GridOps", "Id field"),
                parentLayerParameterName=INPUT,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                KIND_FIELD,
                QCoreApplication.translate("GridOps", "Kind field"),
                parentLayerParameterName=INPUT,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                KIND,
                QCoreApplication.translate(
                    "GridOps", "Kind for features without one (e.g. streetlight)"
                ),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                NAME_FIELD,
                QCoreApplication.translate("GridOps", "Name field"),
                parentLayerParameterName=INPUT,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                STATUS_FIELD,
                QCoreApplication.translate("GridOps", "Status field"),
                parentLayerParameterName=INPUT,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                OTHER_FIELDS,
                QCoreApplication.translate("GridOps", "Send the other fields as properties"),
                defaultValue=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                HUB_URL,
                QCoreApplication.translate("GridOps", "Hub URL (empty: the connected hub)"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                AUTH,
                QCoreApplication.translate(
                    "GridOps", "Admin account (empty: the connected account, if an admin)"
                ),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                BATCH_SIZE,
                QCoreApplication.translate("GridOps", "Features per request"),
                defaultValue=twin_upload.DEFAULT_BATCH,
                minValue=1,
                maxValue=twin_upload.MAX_BATCH,
            )
        )
        for name in ("SENT", "INSERTED", "UPDATED", "OUTSIDE_GRIDS"):
            self.addOutput(QgsProcessingOutputNumber(name, name.lower()))

    # ------------------------------------------------------------------ the account

    def _session_admin(self) -> Tuple[Optional[str], Any]:
        """(hub URL, client) of the connected session; the client only when it is an admin's."""
        session = self.session()
        client = session.client() if session is not None else None
        path = session.replica_path() if session is not None else None
        if client is None or path is None:
            return None, None
        # Its own read-only connection: this may run on a Processing thread.
        conn = self.open_replica(path)
        try:
            row = conn.execute("SELECT value FROM sync_state WHERE key = 'user'").fetchone()
        finally:
            conn.close()
        user = json.loads(row[0]) if row and row[0] else {}
        return client.base_url, (client if user.get("role") == "admin" else None)

    def client(
        self, parameters: Dict[str, Any], context: Any, feedback: Any
    ) -> twin_upload.TwinClient:
        """The admin's client: the auth configuration's account, else the session's."""
        url = self.parameterAsString(parameters, HUB_URL, context).strip().rstrip("/")
        auth_id = self.parameterAsString(parameters, AUTH, context).strip()
        session_url, session_client = self._session_admin()
        url = url or session_url or ""
        if not url:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "No hub: give the hub URL or connect GridOps first."
                )
            )
        if not auth_id:
            if session_client is not None and session_url == url:
                return twin_upload.TwinClient(session_client.base_url, session_client.token)
            needs = QCoreApplication.translate(
                "GridOps", "Importing twin features needs an admin account."
            )
            how = QCoreApplication.translate(
                "GridOps", "Connect as an admin, or choose an admin's authentication (Basic)."
            )
            raise QgsProcessingException(f"{needs} {how}")
        config = QgsAuthMethodConfig()
        manager = QgsApplication.authManager()
        if not manager.loadAuthenticationConfig(auth_id, config, True) or not config.isValid():
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "The authentication configuration {id} cannot be read."
                ).format(id=auth_id)
            )
        username = config.config("username")
        password = config.config("password")
        if not username or not password:
            message = QCoreApplication.translate(
                "GridOps", "The authentication {id} has no username and password (use Basic)."
            )
            raise QgsProcessingException(message.format(id=auth_id))
        feedback.pushInfo(
            QCoreApplication.translate("GridOps", "Logging in to {url} as {user}.").format(
                url=url, user=username
            )
        )
        try:
            return twin_upload.admin_client(url, username, password)
        except twin_upload.NotAdmin as exc:
            raise QgsProcessingException(str(exc)) from exc
        except Offline as exc:
            raise QgsProcessingException(
                QCoreApplication.translate("GridOps", "Cannot reach the hub at {url}.").format(
                    url=url
                )
            ) from exc
        except HubError as exc:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "The hub refused the login: {message}"
                ).format(message=exc.message)
            ) from exc

    # ------------------------------------------------------------------ reading

    def target_layer(self, parameters: Dict[str, Any], context: Any, source: Any) -> str:
        """The twin layer to write: the one chosen, or the one of the source's geometry."""
        chosen = TARGETS[self.parameterAsEnum(parameters, TARGET, context)]
        geometry = QgsWkbTypes.geometryType(source.wkbType())
        natural = {
            QgsWkbTypes.PointGeometry: "components",
            QgsWkbTypes.LineGeometry: "pipelines",
            QgsWkbTypes.PolygonGeometry: "areas",
        }.get(geometry)
        if natural is None:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "The layer has no point, line or polygon geometry."
                )
            )
        if chosen and chosen != natural:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "This layer's geometries go into {natural}, not {chosen}."
                ).format(natural=natural, chosen=chosen)
            )
        return natural

    def key_fields(self, parameters: Dict[str, Any], context: Any) -> Set[str]:
        """The source's own key columns (a GeoPackage's `fid`): bookkeeping of the file,
        not properties of the feature."""
        layer = self.parameterAsVectorLayer(parameters, INPUT, context)
        provider = layer.dataProvider() if layer is not None else None
        if provider is None:
            return set()
        fields = layer.fields()
        return {fields.at(i).name() for i in provider.pkAttributeIndexes()}

    def read(
        self, parameters: Dict[str, Any], context: Any, feedback: Any, source: Any, layer: str
    ) -> Tuple[List[Dict[str, Any]], List[str], List[twin_upload.BadFeature]]:
        """The source's features as GeoJSON Features for `layer`, their references, and
        the ones that cannot be transformed."""
        id_field = self.parameterAsString(parameters, ID_FIELD, context)
        kind_field = self.parameterAsString(parameters, KIND_FIELD, context)
        fixed_kind = self.parameterAsString(parameters, KIND, context).strip() or None
        name_field = self.parameterAsString(parameters, NAME_FIELD, context)
        status_field = self.parameterAsString(parameters, STATUS_FIELD, context)
        others = self.parameterAsBool(parameters, OTHER_FIELDS, context)
        if not kind_field and not fixed_kind:
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "Give a kind field, or a kind for the whole layer."
                )
            )
        field_names = source.fields().names()
        for chosen in (id_field, kind_field, name_field, status_field):
            if chosen and chosen not in field_names:
                raise QgsProcessingException(
                    QCoreApplication.translate("GridOps", "The layer has no field {name}.").format(
                        name=chosen
                    )
                )
        mapped = {id_field, kind_field, name_field, status_field}
        skip = mapped | RESERVED | self.key_fields(parameters, context)
        extra = [n for n in field_names if others and n not in skip]
        crs = source.sourceCrs()
        if not crs.isValid():
            raise QgsProcessingException(
                QCoreApplication.translate(
                    "GridOps", "The layer has no coordinate reference system: set one first."
                )
            )
        transform = QgsCoordinateTransform(
            crs, QgsCoordinateReferenceSystem("EPSG:4326"), context.transformContext()
        )
        features: List[Dict[str, Any]] = []
        refs: List[str] = []
        failed: List[twin_upload.BadFeature] = []
        total = max(1, source.featureCount())
        feature = QgsFeature()
        iterator = source.getFeatures()
        while iterator.nextFeature(feature):
            if feedback.isCanceled():
                break
            ref = str(feature.id())
            fid = text_of(feature[id_field])
            kind = (text_of(feature[kind_field]) if kind_field else None) or fixed_kind
            props: Dict[str, Any] = {"kind": kind}
            if name_field:
                props["name"] = text_of(feature[name_field])
            if status_field:
                props["status"] = text_of(feature[status_field])
            for name in extra:
                props[name] = plain(feature[name])
            geometry = QgsGeometry(feature.geometry())
            try:
                if not geometry.isNull():
                    geometry.transform(transform)
                shape = geometry_json(geometry)
            except QgsCsException:
                failed.append(
                    twin_upload.BadFeature(ref, fid, "cannot be transformed to EPSG:4326")
                )
                continue
            features.append({"type": "Feature", "id": fid, "geometry": shape, "properties": props})
            refs.append(ref)
            feedback.setProgress(READ_SHARE * len(refs) / total)
        return features, refs, failed

    # ------------------------------------------------------------------ run

    def processAlgorithm(
        self, parameters: Dict[str, Any], context: Any, feedback: Any
    ) -> Dict[str, Any]:
        source = self.parameterAsSource(parameters, INPUT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, INPUT))
        layer = self.target_layer(parameters, context, source)
        batch_size = self.parameterAsInt(parameters, BATCH_SIZE, context)
        client = self.client(parameters, context, feedback)
        features, refs, failed = self.read(parameters, context, feedback, source, layer)
        if feedback.isCanceled():
            return {"SENT": 0, "INSERTED": 0, "UPDATED": 0, "OUTSIDE_GRIDS": 0}
        bad = failed + twin_upload.find_bad(layer, features, refs)
        if bad:
            for item in bad[:MAX_REPORTED]:
                feedback.reportError(item.text())
            if len(bad) > MAX_REPORTED:
                feedback.reportError(
                    QCoreApplication.translate("GridOps", "… and {count} more.").format(
                        count=len(bad) - MAX_REPORTED
                    )
                )
            counted = QCoreApplication.translate(
                "GridOps", "{bad} of {total} feature(s) cannot be imported (listed above)."
            ).format(bad=len(bad), total=len(features) + len(failed))
            advice = QCoreApplication.translate(
                "GridOps", "Nothing was sent: fix or filter them, then run the import again."
            )
            raise QgsProcessingException(f"{counted} {advice}")
        feedback.pushInfo(
            QCoreApplication.translate(
                "GridOps", "Sending {count} feature(s) to {layer} at {url}."
            ).format(count=len(features), layer=layer, url=client.base_url)
        )

        def progress(sent: int, total: int) -> None:
            feedback.setProgress(READ_SHARE + (100.0 - READ_SHARE) * sent / max(1, total))

        try:
            result = twin_upload.upload(
                client, layer, features, batch_size, progress, feedback.isCanceled
            )
        except twin_upload.UploadFailed as exc:
            raise QgsProcessingException(str(exc)) from exc
        if result.cancelled:
            message = QCoreApplication.translate(
                "GridOps", "Cancelled: {sent} of {total} feature(s) imported; run it again."
            )
            feedback.pushWarning(message.format(sent=result.sent, total=result.total))
        else:
            message = QCoreApplication.translate(
                "GridOps", "Done: {inserted} new, {updated} updated, {outside} in no grid."
            )
            feedback.pushInfo(
                message.format(
                    inserted=result.inserted, updated=result.updated, outside=result.outside_grids
                )
            )
        return {
            "SENT": result.sent,
            "INSERTED": result.inserted,
            "UPDATED": result.updated,
            "OUTSIDE_GRIDS": result.outside_grids,
        }
