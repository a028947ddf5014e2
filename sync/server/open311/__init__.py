"""Open311 GeoReport v2 on the hub (PROTOCOL.md "Open311 GeoReport v2"): citizens' clients
list the services, post reports and follow them.

- `routes`: the endpoints under `/open311/v2/` and their errors;
- `catalogue`: the services (our task kinds), their definitions and attribute checks;
- `form`: reading a POST's form-encoded body;
- `present`: a request as the specification shows it (status, notes, agency, times);
- `render`: JSON and XML as the specification writes them.
"""

from __future__ import annotations

from .routes import router

__all__ = ["router"]
