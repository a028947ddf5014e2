#!/usr/bin/env bash
# Runs the QGIS plugin's tests on QGIS 3.40 LTR: a minimal Debian 13 (trixie) root made with
# debootstrap, its python3-qgis and its Python 3.13 (RECIPES.md, "QGIS 3.40 LTR on Debian 13").
#
#   .ci/qgis-lts.sh [pytest args]       default: the plugin's tests and the client's own
#
# The root lives outside the checkout ($GRIDOPS_LTS_ROOT, default /var/tmp/gridops-trixie) and
# is kept between runs: made once (about 3.5 min: debootstrap, QGIS, the venv), then brought up
# to date only when the Debian package list or the Python requirements change (each step keyed
# by a stamp inside the root); a warm run is the tests alone (about 1.5 min).
# Debian gives QGIS, PyQt5, Pillow and numpy; a venv with --system-site-packages adds the hub's
# requirements and the test tools from PyPI, read from pyproject.toml. Each run copies the
# working tree (tracked and untracked, not ignored files) into the root, so the tests there
# write nothing into the checkout. proc, sys and dev are bind-mounted for the run only, and a
# trap unmounts them whatever happens. Runs as root, or re-runs itself through sudo.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${GRIDOPS_LTS_ROOT:-/var/tmp/gridops-trixie}
MIRROR=${GRIDOPS_LTS_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
VENV=/opt/gridops-venv
SRC=/gridops/src
# qttools5-dev-tools: lrelease, to build the plugin zip and its Chinese translation.
APT_PKGS=(python3-qgis python3-venv python3-pil python3-mock qttools5-dev-tools
          libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgles2
          fonts-dejavu-core fonts-noto-cjk ca-certificates)
# What pyproject.toml's `test` extra brings that these tests use.
TEST_TOOLS="pytest pytest-qt mock httpx"
DEFAULT_TESTS=(tests/qgis_plugin tests/sync/test_replica.py tests/sync/test_gpkg.py
               tests/sync/test_model.py tests/sync/test_extract.py tests/e2e/test_replica_sync.py)

if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "qgis-lts: needs root (or sudo) for chroot" >&2; exit 1; }
  exec sudo --preserve-env=GRIDOPS_LTS_ROOT,GRIDOPS_LTS_MIRROR,http_proxy,https_proxy,no_proxy \
    bash "$0" "$@"
fi
case "$ROOT" in
  /*) ;;
  *) echo "qgis-lts: GRIDOPS_LTS_ROOT must be an absolute path" >&2; exit 1 ;;
esac
ROOT=${ROOT%/}

log() { echo "qgis-lts: $*"; }
# Mounts at or under $1, deepest first.
mounts_under() { awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/mounts | sort -r; }
in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
    ${no_proxy:+no_proxy=$no_proxy} "$@"
}

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9 # one run per root at a time: the mounts and the copied tree are shared

# 1. The base system, made beside the root and moved into place only when complete.
if [ ! -e "$ROOT/.gridops-base" ]; then
  if [ -e "$ROOT" ]; then
    echo "qgis-lts: $ROOT exists but was not made by this script; remove it or set" \
      "GRIDOPS_LTS_ROOT" >&2
    exit 1
  fi
  if [ -n "$(mounts_under "$ROOT.new")" ]; then
    echo "qgis-lts: something is mounted under $ROOT.new; unmount it first" >&2
    exit 1
  fi
  rm -rf --one-file-system "$ROOT.new"
  log "debootstrap $SUITE into $ROOT (about 2 minutes)"
  debootstrap --variant=minbase "$SUITE" "$ROOT.new" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 || {
    tail -n 20 "$ROOT.debootstrap.log" >&2
    exit 1
  }
  touch "$ROOT.new/.gridops-base"
  mv "$ROOT.new" "$ROOT"
fi

cleanup() {
  local m
  for m in $(mounts_under "$ROOT"); do
    umount "$m" 2>/dev/null || umount -l "$m" || echo "qgis-lts: could not unmount $m" >&2
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
for d in proc sys dev; do
  mountpoint -q "$ROOT/$d" || mount --bind "/$d" "$ROOT/$d"
done
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# No service that a package installs starts in the root (it would keep the mounts busy).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

# 2. Debian's packages: QGIS 3.40, Python 3.13, PyQt5.
apt_key=$(printf '%s\n' "$SUITE" "${APT_PKGS[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT/.gridops-apt" 2>/dev/null)" != "$apt_key" ]; then
  log "installing ${APT_PKGS[*]}"
  in_root apt-get update -qq
  in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${APT_PKGS[@]}" \
    >/dev/null
  in_root apt-get clean
  echo "$apt_key" >"$ROOT/.gridops-apt"
fi

# 3. The working tree, copied fresh.
rm -rf --one-file-system "$ROOT$SRC"
mkdir -p "$ROOT$SRC"
# safe.directory: under sudo, root reads a checkout that another user owns.
git_repo() { git -c safe.directory="$REPO" -C "$REPO" "$@"; }
if command -v git >/dev/null && git_repo rev-parse --git-dir >/dev/null 2>&1; then
  git_repo ls-files -z -c -o --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$REPO/$f" ] && printf '%s\0' "$f"; done |
    tar -C "$REPO" --null -T - -cf - | tar -C "$ROOT$SRC" -xf -
else
  tar -C "$REPO" --exclude=.git --exclude=.venv --exclude=data --exclude=dist -cf - . |
    tar -C "$ROOT$SRC" -xf -
fi

# 4. The hub's requirements and the test tools, from pyproject.toml, into a venv that sees
# Debian's packages. The constraints' numpy<2 is for Debian 12's GDAL; Debian 13's QGIS and
# GDAL are built against numpy 2, which the venv must keep.
in_root python3 - "$SRC/pyproject.toml" "$TEST_TOOLS" >"$ROOT/gridops/requirements.txt" <<'EOF'
import re, sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
wanted = set(sys.argv[2].split())
tests = [r for r in project["optional-dependencies"]["test"]
         if re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() in wanted]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["hub"] + tests))
EOF
grep -v -i '^numpy' "$REPO/.ci/constraints.txt" >"$ROOT/gridops/constraints.txt" || true
pip_key=$(cat "$ROOT/gridops/requirements.txt" "$ROOT/gridops/constraints.txt" | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT/.gridops-pip" 2>/dev/null)" != "$pip_key" ]; then
  log "installing into $VENV: $(tr '\n' ' ' <"$ROOT/gridops/requirements.txt")"
  rm -rf --one-file-system "$ROOT$VENV"
  in_root python3 -m venv --system-site-packages "$VENV"
  # PyPI is reached with the host's trust store (it may hold a local proxy's CA).
  cp -L "${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}" "$ROOT/gridops/ca.crt"
  in_root "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    --cert /gridops/ca.crt -c /gridops/constraints.txt -r /gridops/requirements.txt
  echo "$pip_key" >"$ROOT/.gridops-pip"
fi

# 5. The tests, headless, with side effects kept in the root's /tmp.
if [ $# -eq 0 ]; then set -- "${DEFAULT_TESTS[@]}"; fi
versions=$(in_root env QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=/tmp "$VENV/bin/python" -c \
  'import sys; from qgis.core import Qgis; print("QGIS", Qgis.version(), "Python", sys.version.split()[0])')
log "$versions"
run=/tmp/gridops-run
rm -rf --one-file-system "$ROOT$run"
mkdir -p -m 0700 "$ROOT$run/runtime"
mkdir -p "$ROOT$run/tmp" "$ROOT$run/home"
chroot "$ROOT" /usr/bin/env -i LANG=C.UTF-8 PATH=/usr/bin:/bin HOME="$run/home" \
  TMPDIR="$run/tmp" XDG_RUNTIME_DIR="$run/runtime" XDG_CACHE_HOME="$run/home/.cache" \
  XDG_CONFIG_HOME="$run/home/.config" XDG_DATA_HOME="$run/home/.local/share" \
  QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1 \
  /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$SRC" \
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
