"""Android's background sync service: `main.py` is what the service runs, `control.py`
starts and stops it from the app (a no-op off Android).

Declared in `packaging/buildozer.spec` as
`services = Sync:field_app/service/main.py:foreground:sticky:foregroundServiceType=dataSync`,
from which python-for-android generates the Java class `cn.gridops.field.ServiceSync`.
"""
