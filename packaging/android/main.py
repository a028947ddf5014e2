"""The APK's `main.py`: python-for-android starts the `main.py` at the top of the app.

The app's entry point is `field_app/main.py`; `packaging/android/stage.py` copies this file
to the top of the folder buildozer packages, and it runs that module as `__main__`, as
`python field_app/main.py` would.
"""

import runpy

runpy.run_module("field_app.main", run_name="__main__", alter_sys=True)
