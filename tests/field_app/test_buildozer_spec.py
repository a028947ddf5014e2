"""packaging/buildozer.spec, read by buildozer itself, and what the APK would hold.

The spec is read with buildozer's own `Buildozer` (its SpecParser, its token checks, its
android target), from packaging/ as `make apk` runs it. The APK's Python sources are the
folder buildozer copies before python-for-android packs it: the test stages the sources
with `packaging/android/stage.py` (as `make apk` does) and runs buildozer's own
`build_application()` (its include/exclude walk) into a temporary build folder, then
checks that list. No Android SDK is involved: the SDK download comes after this step.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import xml.dom.minidom
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from buildozer import Buildozer

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
SPEC = PACKAGING / "buildozer.spec"


def _load(name: str, path: Path) -> Any:
    """A packaging script as a module (they are scripts, not a package)."""
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


stage = _load("gridops_apk_stage", PACKAGING / "android" / "stage.py")
p4a_hook = _load("gridops_apk_p4a_hook", PACKAGING / "android" / "p4a_hook.py")

DEVICE_SYNC = {
    "sync/__init__.py",
    "sync/model.py",
    "sync/vocabulary.py",
    "sync/validation.py",
    "sync/scopes.py",
    "sync/decision.py",
    "sync/geo.py",
    "sync/gpkg.py",
    "sync/gpkg_geometry.py",
    "sync/gpkg_schema.py",
    "sync/gpkg_features.py",
    "sync/client.py",
    "sync/syncjob.py",
}
# What each third-party import is built from (python-for-android recipe or pip name).
IMPORT_TO_REQUIREMENT = {
    "kivy": "kivy",
    "plyer": "plyer",
    "jnius": "pyjnius",
    "android": "android",
    "requests": "requests",
    "urllib3": "urllib3",
    "idna": "idna",
    "charset_normalizer": "charset-normalizer",
    "certifi": "certifi",
    "PIL": "pillow",
}


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch) -> Buildozer:
    """The spec as buildozer reads it, with packaging/ as the working folder."""
    monkeypatch.chdir(PACKAGING)
    return Buildozer(filename=str(SPEC))


@pytest.fixture(scope="module")
def apk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Buildozer's copy of the app's sources: {"files": relative paths, "dir": its folder}."""
    tmp = tmp_path_factory.mktemp("apk")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(PACKAGING)
        mp.setenv("HOME", str(tmp / "home"))  # buildozer makes ~/.buildozer
        b = Buildozer(filename=str(SPEC))
        source = stage.stage(tmp / "src")
        # Relocated into the temporary folder; the rules under test are the spec's own.
        b.config.set("app", "source.dir", str(source))
        b.config.set("buildozer", "build_dir", str(tmp / "buildozer"))
        b.set_target("android")
        b.build_application()
        app_dir = Path(b.app_dir)
        files = {p.relative_to(app_dir).as_posix() for p in app_dir.rglob("*") if p.is_file()}
        yield {"files": files, "dir": app_dir}


def repo_files(folder: str) -> set[str]:
    """The files of a repository folder that belong in a build (no byte code)."""
    root = REPO / folder
    return {
        p.relative_to(REPO).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }


# --- the spec's tokens ----------------------------------------------------------------


def test_identity_version_and_screen(spec: Buildozer) -> None:
    import field_app
    from field_app.service import control

    config = spec.config
    assert config.get("app", "title") == "GridOps"
    assert spec.package_full_name == control.PACKAGE == "cn.gridops.field"
    assert spec.get_version() == field_app.__version__
    assert config.getlist("app", "orientation") == ["portrait"]
    assert config.getbooldefault("app", "fullscreen", True) is False
    assert config.get("app", "android.api") == "34"
    assert config.get("app", "android.minapi") == "24"
    assert config.get("app", "android.ndk_api") == "24"
    assert config.getlist("app", "android.archs") == ["arm64-v8a", "armeabi-v7a"]
    assert config.getbooldefault("app", "android.accept_sdk_license") is True


def test_version_follows_the_one_constant(spec: Buildozer, tmp_path: Path) -> None:
    """The version is read from sync/__init__.py each time, not written into the spec."""
    copy = tmp_path / "__init__.py"
    copy.write_text('"""x"""\n\n__version__ = "9.8.7"\n', encoding="utf-8")
    spec.config.set("app", "version.filename", str(copy))
    assert spec.get_version() == "9.8.7"
    assert not spec.config.has_option("app", "version")


def test_requirements(spec: Buildozer) -> None:
    reqs = spec.config.getlist("app", "requirements")
    names = {re.split(r"[=<>]", r)[0] for r in reqs}
    assert "kivy==2.3.1" in reqs
    assert {
        "python3",
        "sqlite3",
        "kivy",
        "plyer",
        "pyjnius",
        "android",
        "requests",
        "urllib3",
        "idna",
        "charset-normalizer",
        "certifi",
        "pillow",
    } <= names


def test_permissions(spec: Buildozer) -> None:
    assert set(spec.config.getlist("app", "android.permissions")) == {
        "CAMERA",
        "ACCESS_FINE_LOCATION",
        "ACCESS_COARSE_LOCATION",
        "INTERNET",
        "ACCESS_NETWORK_STATE",
        "FOREGROUND_SERVICE",
        "FOREGROUND_SERVICE_DATA_SYNC",
        "POST_NOTIFICATIONS",
        "WAKE_LOCK",
    }


def test_service_declared(spec: Buildozer, apk: dict[str, Any]) -> None:
    from field_app.service import control

    services = spec.config.getlist("app", "services")
    assert len(services) == 1
    # python-for-android's form: NAME:ENTRYPOINT[:options], its class {package}.Service{Name}
    name, entrypoint, *options = services[0].split(":")
    assert f"{spec.package_full_name}.Service{name.capitalize()}" == control.SERVICE_CLASS
    assert entrypoint == "field_app/service/main.py"
    assert entrypoint in apk["files"]
    assert {"foreground", "sticky", "foregroundServiceType=dataSync"} == set(options)


def test_files_the_spec_names_exist(spec: Buildozer) -> None:
    config = spec.config
    root = Path(spec.root_dir)  # buildozer joins icon, presplash and res_xml to it
    assert root == PACKAGING
    assert (root / config.get("app", "icon.filename")).is_file()
    assert (root / config.get("app", "presplash.filename")).is_file()
    res_xml = config.getlist("app", "android.res_xml")
    assert [Path(p).name for p in res_xml] == ["file_paths.xml"]
    assert all((root / p).is_file() for p in res_xml)
    # buildozer resolves these from the working folder (packaging/ under make apk)
    assert Path(config.get("app", "p4a.hook")).resolve() == PACKAGING / "android" / "p4a_hook.py"
    recipes = Path(config.get("app", "p4a.local_recipes")).resolve()
    assert (recipes / "sqlite3" / "__init__.py").is_file()
    assert Path(config.get("app", "source.dir")).resolve() == stage.DEFAULT_DEST
    assert Path(config.get("app", "version.filename")).resolve() == REPO / "sync" / "__init__.py"
    assert Path(spec.bin_dir) == REPO / "dist"
    assert Path(spec.buildozer_dir).is_relative_to(REPO / "build")


def test_make_apk_prepares_what_the_spec_expects(spec: Buildozer) -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    p4a_dir = re.search(r"^P4A_DIR := (\S+)$", makefile, re.M)
    assert p4a_dir is not None
    assert (REPO / p4a_dir.group(1)).resolve() == Path(
        spec.config.get("app", "p4a.source_dir")
    ).resolve()
    buildozer_pin = re.search(r"^BUILDOZER_VERSION := (\S+)$", makefile, re.M)
    assert buildozer_pin is not None
    import buildozer

    assert buildozer.__version__ == buildozer_pin.group(1)
    dry = subprocess.run(
        ["make", "-n", "apk"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "packaging/android/stage.py" in dry
    assert "cd packaging &&" in dry
    assert "buildozer -v android debug" in dry


# --- what the APK holds ----------------------------------------------------------------


def test_apk_holds_the_entry_point_and_the_app(apk: dict[str, Any]) -> None:
    files = apk["files"]
    main = (apk["dir"] / "main.py").read_text(encoding="utf-8")
    assert main == (PACKAGING / "android" / "main.py").read_text(encoding="utf-8")
    assert 'run_module("field_app.main", run_name="__main__"' in main
    assert "field_app/main.py" in files
    assert repo_files("field_app") <= files  # every .py, .kv, font, catalogue of the app
    kv = {f for f in files if f.endswith(".kv")}
    assert kv and kv == {f for f in repo_files("field_app") if f.endswith(".kv")}
    assert "field_app/locale/zh_CN.json" in files
    assert "field_app/devices/android.py" in files


def test_apk_holds_the_app_font(apk: dict[str, Any]) -> None:
    from field_app import fonts

    font = Path(fonts.FONT_FILE).relative_to(REPO).as_posix()
    assert font in apk["files"], f"{font} is missing: the APK would draw Chinese as boxes"


def test_apk_holds_the_device_side_of_sync_only(apk: dict[str, Any]) -> None:
    files = apk["files"]
    shipped_sync = {f for f in files if f.startswith("sync/")}
    replica = {f for f in repo_files("sync/replica") if f.endswith(".py")}
    assert shipped_sync == DEVICE_SYNC | replica
    for hub_side in ("sync/server/", "sync/store/", "sync/cli.py", "sync/demo", "sync/twin_"):
        assert not any(f.startswith(hub_side) for f in files), hub_side


def test_apk_leaves_out_everything_else(apk: dict[str, Any]) -> None:
    files = apk["files"]
    top = {f.split("/")[0] for f in files}
    # sitecustomize.py is buildozer's own addition to every app
    assert top == {"main.py", "sitecustomize.py", "field_app", "sync"}
    for absent in ("tests/", "qgis_plugin/", "bench/", "docs/", "tools/", "data/", "packaging/"):
        assert not any(f.startswith(absent) for f in files), absent
    assert not any(f.endswith((".pyc", ".pyo")) or "__pycache__" in f for f in files)


def _imports(path: Path, module: str) -> Iterator[tuple[str, list[str]]]:
    """(module, names) of every import in the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base, [a.name for a in node.names]


def test_apk_imports_only_what_it_holds_or_requires(spec: Buildozer, apk: dict[str, Any]) -> None:
    """Every first-party module a shipped file imports is shipped; every third-party one
    is built from a requirement (imports inside functions included: Android's are there)."""
    files = apk["files"]
    requirements = {re.split(r"[=<>]", r)[0] for r in spec.config.getlist("app", "requirements")}

    def shipped(module: str) -> bool:
        path = module.replace(".", "/")
        return f"{path}.py" in files or f"{path}/__init__.py" in files

    def exists_in_repo(module: str) -> bool:
        path = REPO / module.replace(".", "/")
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    problems = []
    for rel in sorted(f for f in files if f.endswith(".py") and "/" in f):
        module = rel[:-3].replace("/", ".").removesuffix(".__init__")
        for imported, names in _imports(apk["dir"] / rel, module):
            top = imported.split(".")[0]
            if top in ("field_app", "sync"):
                if not shipped(imported):
                    problems.append(f"{rel}: {imported} is not in the APK")
                for name in names:
                    sub = f"{imported}.{name}"
                    if exists_in_repo(sub) and not shipped(sub):
                        problems.append(f"{rel}: {sub} is not in the APK")
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                need = IMPORT_TO_REQUIREMENT.get(top)
                if need is None or need not in requirements:
                    problems.append(f"{rel}: imports {top}, which no requirement provides")
    assert problems == []


def test_apk_entry_points_are_byte_compilable(apk: dict[str, Any]) -> None:
    """python-for-android compiles every .py; the service's must also run as a script."""
    for rel in ("main.py", "field_app/main.py", "field_app/service/main.py"):
        compile((apk["dir"] / rel).read_text(encoding="utf-8"), rel, "exec", optimize=2)
    service = (apk["dir"] / "field_app/service/main.py").read_text(encoding="utf-8")
    tree = ast.parse(service)
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert relative == [], "p4a runs the service file as a script: no relative imports"


# --- the FileProvider ------------------------------------------------------------------

MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
      android:versionCode="1" android:versionName="0.1.0">
    <application android:label="@string/app_name" android:allowBackup="false">
        <activity android:name="org.kivy.android.PythonActivity" android:exported="true" />
        <service android:name="cn.gridops.field.ServiceSync"
                 android:foregroundServiceType="dataSync" android:process=":service_Sync" />
    </application>
</manifest>
"""


def test_hook_declares_the_file_provider_the_camera_uses() -> None:
    from field_app.devices import android

    out = p4a_hook.add_file_provider(MANIFEST)
    assert p4a_hook.add_file_provider(out) == out  # a second run adds nothing
    app = xml.dom.minidom.parseString(out).getElementsByTagName("application")[0]
    providers = app.getElementsByTagName("provider")
    assert len(providers) == 1
    provider = providers[0]
    assert provider.getAttribute("android:name") == "androidx.core.content.FileProvider"
    assert provider.getAttribute("android:authorities") == (
        "${applicationId}" + android.FILEPROVIDER_SUFFIX
    )
    assert provider.getAttribute("android:exported") == "false"
    assert provider.getAttribute("android:grantUriPermissions") == "true"
    meta = provider.getElementsByTagName("meta-data")[0]
    assert meta.getAttribute("android:name") == "android.support.FILE_PROVIDER_PATHS"
    assert meta.getAttribute("android:resource") == "@xml/file_paths"
    # the services and activity are untouched
    assert len(app.getElementsByTagName("service")) == 1
    assert len(app.getElementsByTagName("activity")) == 1


def test_file_paths_share_only_the_captures_folder() -> None:
    from field_app.devices import android

    paths = xml.dom.minidom.parse(str(PACKAGING / "android/res/xml/file_paths.xml"))
    root = paths.documentElement
    assert root.tagName == "paths"
    entries = [n for n in root.childNodes if n.nodeType == n.ELEMENT_NODE]
    assert [(e.tagName, e.getAttribute("path")) for e in entries] == [
        ("files-path", android.CAPTURES_DIR + "/")
    ]


def test_hook_refuses_a_manifest_it_does_not_know() -> None:
    with pytest.raises(p4a_hook.HookError):
        p4a_hook.add_file_provider("<manifest><application/></manifest>")


def test_hook_rewrites_the_manifest_in_the_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "src" / "main" / "AndroidManifest.xml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # p4a calls the hook in the distribution's folder
    p4a_hook.after_apk_build(toolchain=None)
    assert "androidx.core.content.FileProvider" in manifest.read_text(encoding="utf-8")


# --- staging ---------------------------------------------------------------------------


def fake_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "field_app").mkdir(parents=True)
    (repo / "field_app" / "main.py").write_text("print('app')\n", encoding="utf-8")
    (repo / ".venv").mkdir()
    (repo / "build").mkdir()
    (repo / "README.md").write_text("readme\n", encoding="utf-8")
    return repo


def test_stage_links_the_repository_and_adds_the_shim(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    dest = stage.stage(repo / "build" / "android" / "src", repo=repo)
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "field_app", "main.py"]
    assert (dest / "field_app").is_symlink()
    assert (dest / "field_app" / "main.py").read_text(encoding="utf-8") == "print('app')\n"
    assert not (dest / "main.py").is_symlink()
    # staging again replaces the links, never what they point to
    stage.stage(dest, repo=repo)
    assert (repo / "field_app" / "main.py").read_text(encoding="utf-8") == "print('app')\n"
    assert (repo / "README.md").exists()


@pytest.mark.parametrize("where", ["repo", "parent", "inside_linked"])
def test_stage_refuses_a_destination_that_holds_real_files(tmp_path: Path, where: str) -> None:
    repo = fake_repo(tmp_path)
    dest = {"repo": repo, "parent": tmp_path, "inside_linked": repo / "field_app" / "x"}[where]
    before = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    with pytest.raises(stage.StageError):
        stage.stage(dest, repo=repo)
    assert sorted(p.as_posix() for p in tmp_path.rglob("*")) == before


def test_stage_refuses_a_repository_with_its_own_main_py(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    (repo / "main.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(stage.StageError, match=r"main\.py"):
        stage.stage(tmp_path / "out", repo=repo)
    assert not (tmp_path / "out").exists()
