"""python-for-android hook: declares the app's FileProvider in the generated manifest.

The camera facade (`field_app/devices/android.py`) hands the camera app a `content://` URI
from AndroidX's `FileProvider`, because Android 7+ refuses `file://` URIs across apps
(`FileUriExposedException`; the reason plyer's camera fails, plyer PR #852). A provider is
a child of `<application>`, which neither of buildozer 1.6's manifest options can write:
`android.extra_manifest_xml` lands beside `<application>`, and
`android.extra_manifest_application_arguments` inside its opening tag. python-for-android's
`--extra-manifest-application-xml` (PR #3377) is newer than the release pinned here, so
`p4a.hook` points at this file: p4a calls `after_apk_build(toolchain)` in the
distribution's folder after `build.py` has rendered `src/main/AndroidManifest.xml` and
before gradle runs, and the provider goes in just before `</application>`.

The authority is `${applicationId}.fileprovider` (gradle fills in the package name), the
paths are `res/xml/file_paths.xml` (`android.res_xml` in the spec).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MANIFEST = Path("src") / "main" / "AndroidManifest.xml"
AUTHORITY_SUFFIX = ".fileprovider"
PROVIDER_CLASS = "androidx.core.content.FileProvider"
PATHS_RESOURCE = "@xml/file_paths"

PROVIDER_XML = f"""
        <provider
            android:name="{PROVIDER_CLASS}"
            android:authorities="${{applicationId}}{AUTHORITY_SUFFIX}"
            android:exported="false"
            android:grantUriPermissions="true">
            <meta-data
                android:name="android.support.FILE_PROVIDER_PATHS"
                android:resource="{PATHS_RESOURCE}" />
        </provider>
"""


class HookError(Exception):
    """The manifest is not one this hook knows how to extend."""


def add_file_provider(manifest: str) -> str:
    """The manifest text with the FileProvider inside `<application>` (once)."""
    if PROVIDER_CLASS in manifest:
        return manifest
    if manifest.count("</application>") != 1:
        raise HookError("expected exactly one </application> in AndroidManifest.xml")
    return manifest.replace("</application>", PROVIDER_XML + "    </application>")


def after_apk_build(toolchain: Any) -> None:
    """p4a's hook: runs in the distribution's folder, before gradle."""
    text = MANIFEST.read_text(encoding="utf-8")
    MANIFEST.write_text(add_file_provider(text), encoding="utf-8")
    print(f"GridOps hook: FileProvider declared in {MANIFEST.resolve()}")
