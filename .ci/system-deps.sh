#!/usr/bin/env bash
# Installs the Debian packages GridOps needs, only those that are missing.
# Runs as root, or through sudo; does nothing when everything is present.
set -euo pipefail
PKGS=(python3 python3-venv python3-dev python3-qgis python3-gdal gdal-bin
      libsqlite3-mod-spatialite libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgles2
      fonts-dejavu-core fonts-noto-cjk ca-certificates build-essential
      qttools5-dev-tools pyqt5-dev-tools)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
