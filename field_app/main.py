"""The entry point that buildozer packages (`main.py` at the top of the APK's sources)."""

from field_app.app import run

if __name__ == "__main__":
    run()
