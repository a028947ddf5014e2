"""`gridops`: the operator's command — run the hub, import layers, manage people and keys.

    gridops demo --data DIR [--host H --port P]      demo district, created if absent, served
    gridops serve --data DIR [--host H --port P]     serve a hub (`--no-prebuild`: street
                                                     extracts built on download only)
    gridops import-twin FILE [--layer L] ...         GeoPackage/GeoJSON → twin features
    gridops grids import FILE                        grid polygons (code, street_code, name)
    gridops users add|list|passwd|revoke ...         accounts
    gridops devices list|revoke ...                  a lost phone
    gridops keys add|list|revoke ...                 camera and Open311 API keys
    gridops backup FILE / restore FILE               consistent copies of the hub
    gridops simulate-cameras --server URL --key KEY --rate R [--duration S] [--street JSL]
                                                     realistic camera detections for demos

Every command takes `--data DIR` (default `$GRIDOPS_DATA`, else `./data/hub`). Errors are one
clear line on stderr and exit status 2; nothing is half-written.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_DATA = os.environ.get("GRIDOPS_DATA", "data/hub")


class CliError(Exception):
    """A problem to report to the operator in one line."""


def _prebuild_from_env() -> bool:
    """GRIDOPS_PREBUILD_EXTRACTS=0 (or no, off, false): the same as `--no-prebuild`."""
    value = os.environ.get("GRIDOPS_PREBUILD_EXTRACTS", "1").strip().lower()
    return value not in ("0", "no", "off", "false")


def _hub(args: argparse.Namespace, serving: bool = False) -> Any:
    """The hub of `--data`. Street extracts are built ahead (docs/hub.md) only by a hub
    that serves, unless `--no-prebuild` or GRIDOPS_PREBUILD_EXTRACTS=0; never by the
    one-shot commands (an import would otherwise start building beside itself)."""
    from .server.hub import Hub, HubSettings

    settings = HubSettings()
    settings.prebuild.enabled = (
        serving and not getattr(args, "no_prebuild", False) and _prebuild_from_env()
    )
    if getattr(args, "camera_config", None):
        from .store.incidents import CameraSettings

        try:
            settings.cameras = CameraSettings.load(args.camera_config)
        except ValueError as err:
            raise CliError(f"--camera-config {err}") from None
    return Hub(args.data, settings)


def _progress(done: int, total: int | None, label: str, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    if total:
        width = 30
        filled = int(width * done / total)
        bar = "█" * filled + "·" * (width - filled)
        text = f"\r{label} [{bar}] {done}/{total} ({rate:,.0f}/s)"
    else:
        text = f"\r{label} {done:,} ({rate:,.0f}/s)"
    sys.stderr.write(text)
    sys.stderr.flush()


# ------------------------------------------------------------------- serving


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server.app import create_app

    hub = _hub(args, serving=True)
    if getattr(args, "demo", False):
        from . import demo

        if not demo.is_seeded(hub):
            print(f"Creating the demo district in {args.data} …", flush=True)
            started = time.monotonic()
            counts = demo.seed(hub)
            print(f"  done in {time.monotonic() - started:.1f} s: {counts}", flush=True)
        print(demo.accounts_text(), flush=True)
    if getattr(args, "camera_config", None):
        cams = hub.settings.cameras
        print(
            f"cameras ({args.camera_config}): confidence threshold {cams.confidence_threshold:g}, "
            f"merge radius {cams.merge_radius_m:g} m, reopen window {cams.reopen_window_h:g} h",
            flush=True,
        )
    print(
        f"GridOps hub on http://{args.host}:{args.port}  (data: {args.data}; Ctrl-C stops)",
        flush=True,
    )
    try:
        uvicorn.run(
            create_app(hub),
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=args.log_level == "debug",
        )
    finally:
        hub.close()
    return 0


# ------------------------------------------------------------------- twin and grids


def cmd_import_twin(args: argparse.Namespace) -> int:
    from .store import TwinError
    from .store.twin import check_feature
    from .twin_import import FieldMap, ImportProblem, read_source

    fields = FieldMap(
        id_field=args.id_field,
        kind_field=args.kind_field,
        kind=args.kind,
        name_field=args.name_field,
    )
    hub = _hub(args)
    totals: dict[str, int] = {"inserted": 0, "updated": 0, "outside_grids": 0}
    started, done = time.monotonic(), 0
    batches: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    try:
        # Read and check the whole file first: a bad feature anywhere changes nothing.
        for layer, feature in read_source(args.file, fields, args.source_layer):
            target = args.layer or layer
            check_feature(target, feature, len(batches.get(target, ())))
            if feature["id"] in seen:
                raise ImportProblem(f"{args.file}: feature id {feature['id']!r} appears twice")
            seen.add(feature["id"])
            batches.setdefault(target, []).append(feature)
        for layer, features in batches.items():
            clash = hub.store.twin_ids_in_other_layers(layer, [f["id"] for f in features])
            if clash:
                raise ImportProblem(
                    f"{args.file}: feature {clash[0]!r} already exists in "
                    f"another layer than {layer}"
                )
        total = sum(len(b) for b in batches.values())
        for layer, features in batches.items():
            for start in range(0, len(features), args.batch):
                counts = hub.store.upsert_twin(layer, features[start : start + args.batch])
                for key in totals:
                    totals[key] += counts[key]
                done += min(args.batch, len(features) - start)
                _progress(done, total, "importing", started)
    except (ImportProblem, TwinError) as err:
        if done:
            sys.stderr.write("\n")
        raise CliError(str(err)) from None
    finally:
        hub.close()
    sys.stderr.write("\n")
    print(
        f"imported {done} features in {time.monotonic() - started:.1f} s: "
        f"{totals['inserted']} new, {totals['updated']} updated, "
        f"{totals['outside_grids']} outside every grid"
    )
    return 0


def cmd_grids_import(args: argparse.Namespace) -> int:
    from .twin_import import FieldMap, ImportProblem, read_source

    hub = _hub(args)
    grids: list[dict[str, Any]] = []
    try:
        for layer, feature in read_source(
            args.file, FieldMap(id_field=args.code_field, kind="grid")
        ):
            if layer != "areas":
                raise CliError(f"grid {feature['id']}: a grid must be a polygon")
            props = feature["properties"]
            street = props.get(args.street_field)
            if not street:
                raise CliError(f"grid {feature['id']}: no {args.street_field!r} field")
            geometry = feature["geometry"]
            grids.append(
                {
                    "code": feature["id"],
                    "street_code": str(street),
                    "name": props.get("name") or feature["id"],
                    "geometry": geometry,
                }
            )
        known = {s["code"] for s in hub.store.list_streets()}
        new_streets = {
            g["street_code"]: g["street_code"] for g in grids if g["street_code"] not in known
        }
        hub.store.upsert_grids(grids, new_streets)
    except (ImportProblem, ValueError) as err:
        raise CliError(str(err)) from None
    finally:
        hub.close()
    print(f"imported {len(grids)} grids")
    return 0


# ------------------------------------------------------------------- users and devices


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise CliError("the passwords differ")
    return first


def _user_or_fail(hub: Any, username: str) -> dict[str, Any]:
    user = hub.store.user_by_username(username)
    if user is None:
        raise CliError(f"no user {username!r}")
    return dict(user)


def cmd_users(args: argparse.Namespace) -> int:
    from .server.auth import hash_password

    hub = _hub(args)
    try:
        if args.action == "add":
            grids = [g for g in (args.grids or "").split(",") if g]
            user = hub.store.add_user(
                user_id=args.username,
                username=args.username,
                display_name=args.name or args.username,
                role=args.role,
                street_code=args.street,
                password_hash=hash_password(_password(args)),
                grid_codes=grids,
                on_duty=args.role == "worker",
            )
            print(f"added {user['role']} {user['username']} ({user['display_name']})")
        elif args.action == "list":
            for user in hub.store.list_users(args.street, args.role):
                print(
                    f"{user['username']:<20} {user['role']:<11} {user['street_code'] or '-':<6} "
                    f"{','.join(user['grid_codes']) or '-':<14} "
                    f"{'on duty' if user['on_duty'] else '':<8} {user['display_name']}"
                )
        elif args.action == "passwd":
            user = _user_or_fail(hub, args.username)
            hub.store.set_password_hash(user["id"], hash_password(_password(args)))
            revoked = hub.store.revoke_tokens(user["id"])
            print(f"password changed; {revoked} token(s) revoked")
        elif args.action == "revoke":
            user = _user_or_fail(hub, args.username)
            print(f"revoked {hub.store.revoke_tokens(user['id'])} token(s) of {args.username}")
    except ValueError as err:
        raise CliError(str(err)) from None
    finally:
        hub.close()
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    hub = _hub(args)
    try:
        if args.action == "list":
            user_id = _user_or_fail(hub, args.user)["id"] if args.user else None
            for dev in hub.store.list_devices(user_id):
                print(
                    f"{dev['username']:<20} {dev['device_id']:<40} last login "
                    f"{dev['last_login']}  live tokens {dev['live_tokens']}"
                )
        else:
            user = _user_or_fail(hub, args.username)
            count = hub.store.revoke_tokens(user["id"], args.device_id)
            print(f"revoked {count} token(s) of {args.username} on {args.device_id}")
    finally:
        hub.close()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from .server.auth import secret_hash

    hub = _hub(args)
    try:
        if args.action == "add":
            key = secrets.token_urlsafe(24)
            hub.store.add_api_key(secret_hash(key), args.name, args.purpose)
            print(f"{args.purpose} key {args.name}: {key}\n(shown once; keep it safe)")
        elif args.action == "list":
            for key in hub.store.list_api_keys():
                state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
                print(f"{key['name']:<24} {key['purpose']:<8} {key['created_at']}  {state}")
        else:
            if not hub.store.revoke_api_key(args.name):
                raise CliError(f"no active key named {args.name!r}")
            print(f"revoked key {args.name}")
    except ValueError as err:
        raise CliError(str(err)) from None
    finally:
        hub.close()
    return 0


# ------------------------------------------------------------------- backup


def cmd_backup(args: argparse.Namespace) -> int:
    hub = _hub(args)
    try:
        hub.store.backup(args.file)
    except FileExistsError as err:
        raise CliError(str(err)) from None
    finally:
        hub.close()
    print(
        f"backed up the hub's database to {args.file} (photos: back up "
        f"{Path(args.data) / 'photos'} with rsync)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    source = Path(args.file)
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        has_meta = (
            conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None
        )
        conn.close()
    except sqlite3.DatabaseError as err:
        raise CliError(f"{source}: not a GridOps backup ({err})") from None
    if not ok or not has_meta:
        raise CliError(f"{source}: not a GridOps backup, or damaged")
    target = Path(args.data) / "hub.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; stop the hub and pass --force to replace it")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, str(target) + ".restoring")
    # A new feed epoch: devices' cursors from before the restore answer 410 and they pull
    # their scope again, instead of trusting positions the restored feed never had.
    conn = sqlite3.connect(str(target) + ".restoring")
    with conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'feed_epoch'").fetchone()
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('feed_epoch', ?)",
            (str(int(row[0]) + 1 if row else 1),),
        )
    conn.close()
    os.replace(str(target) + ".restoring", target)
    shutil.rmtree(target.parent / "extracts", ignore_errors=True)
    print(f"restored {source} into {target}; devices will pull their scope again")
    return 0


# ------------------------------------------------------------------- camera simulator


def cmd_simulate_cameras(args: argparse.Namespace) -> int:
    from . import simulate_cameras

    try:
        grids = simulate_cameras.grids_from_file(args.grids) if args.grids else None
        print(
            f"simulating street cameras against {args.server}: {args.rate:g} detections/s "
            f"for {args.duration:g} s" + (f" in street {args.street}" if args.street else ""),
            flush=True,
        )
        summary = simulate_cameras.run(
            args.server,
            args.key,
            args.rate,
            args.duration,
            street=args.street,
            grids=grids,
            speed=args.speed,
            senders=args.senders,
            snapshots=not args.no_snapshots,
            seed=args.seed,
            progress=lambda line: print(line, flush=True),
        )
    except (OSError, ValueError) as err:
        raise CliError(str(err)) from None
    print(summary.text())
    return 0 if summary.accepted else 1


# ------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridops", description="GridOps hub operations")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--data", default=DEFAULT_DATA, help="the hub's data folder")
        return p

    for name, text in (
        ("demo", "serve the demo district (created if absent)"),
        ("serve", "serve a hub"),
    ):
        p = command(name, text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument(
            "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
        )
        p.add_argument(
            "--camera-config",
            metavar="FILE.json",
            help="street cameras' settings: confidence_threshold, merge_radius_m, "
            "reopen_window_h, service_levels_h, note_interval_min (docs/hub.md)",
        )
        p.add_argument(
            "--no-prebuild",
            action="store_true",
            help="do not build big streets' twin extracts ahead in the background (each is "
            "then built by its first download); also GRIDOPS_PREBUILD_EXTRACTS=0",
        )
        p.set_defaults(func=cmd_serve, demo=name == "demo")

    p = command("import-twin", "import twin features from a GeoPackage or GeoJSON file")
    p.add_argument("file")
    p.add_argument(
        "--layer",
        choices=["components", "pipelines", "areas"],
        help="target layer (default: from the geometry type)",
    )
    p.add_argument("--source-layer", help="one table of a GeoPackage (default: all)")
    p.add_argument("--id-field", default="id")
    p.add_argument("--kind-field", default="kind")
    p.add_argument("--kind", help="one kind for every feature (instead of --kind-field)")
    p.add_argument("--name-field", default="name")
    p.add_argument("--batch", type=int, default=5000)
    p.set_defaults(func=cmd_import_twin)

    p = command("grids", "grids")
    p.add_argument("action", choices=["import"])
    p.add_argument("file")
    p.add_argument("--code-field", default="code")
    p.add_argument("--street-field", default="street_code")
    p.set_defaults(func=cmd_grids_import)

    p = command("users", "accounts")
    p.add_argument("action", choices=["add", "list", "passwd", "revoke"])
    p.add_argument("username", nargs="?")
    p.add_argument("--role", choices=["worker", "dispatcher", "supervisor", "admin"])
    p.add_argument("--street")
    p.add_argument("--grids", help="comma-separated grid codes (workers)")
    p.add_argument("--name", help="display name")
    p.add_argument("--password", help="(default: asked)")
    p.set_defaults(func=cmd_users)

    p = command("devices", "devices (a lost phone)")
    p.add_argument("action", choices=["list", "revoke"])
    p.add_argument("username", nargs="?")
    p.add_argument("device_id", nargs="?")
    p.add_argument("--user", help="list one user's devices")
    p.set_defaults(func=cmd_devices)

    p = command("keys", "API keys for cameras and Open311")
    p.add_argument("action", choices=["add", "list", "revoke"])
    p.add_argument("--purpose", choices=["camera", "open311"])
    p.add_argument("--name")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("simulate-cameras", help="send realistic camera detections to a hub")
    p.add_argument("--server", required=True, help="the hub's URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--key", required=True, help="a camera API key (demo: demo-camera-key)")
    p.add_argument("--rate", type=float, required=True, help="detections per second")
    p.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--street", help="cameras in this street's grids only (e.g. JSL)")
    p.add_argument("--grids", help="GeoJSON of grids (code, street_code); default: the demo's")
    p.add_argument("--speed", type=float, default=1.0, help="problems' clock × wall clock")
    p.add_argument("--senders", type=int, default=4, help="parallel connections")
    p.add_argument("--no-snapshots", action="store_true", help="send no snapshots")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_simulate_cameras)

    p = command("backup", "a consistent copy of the hub's database, taken while it serves")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)

    p = command("restore", "put a backup in place (stop the hub first)")
    p.add_argument("file")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_restore)
    return parser


def _check(args: argparse.Namespace) -> None:
    need = {
        ("users", "add"): ("username", "role"),
        ("users", "passwd"): ("username",),
        ("users", "revoke"): ("username",),
        ("devices", "revoke"): ("username", "device_id"),
        ("keys", "add"): ("purpose", "name"),
        ("keys", "revoke"): ("name",),
    }.get((str(args.command), str(getattr(args, "action", ""))), ())
    missing = [n for n in need if not getattr(args, n, None)]
    if missing:
        raise CliError(f"{args.command} {args.action}: give {', '.join(missing)}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check(args)
        return int(args.func(args))
    except CliError as err:
        print(f"gridops: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
