#!/usr/bin/env bash
# Installs the Debian packages that buildozer and python-for-android need to build the APK
# (their documented list for Debian/Ubuntu: a JDK for gradle, autotools and a C toolchain
# for the recipes' host builds, zlib headers, which buildozer checks for), only those that
# are missing. Runs as root, or through sudo; does nothing when everything is present.
set -euo pipefail
PKGS=(git zip unzip patch openjdk-17-jdk-headless python3-venv python3-dev build-essential
      autoconf automake libtool pkg-config cmake zlib1g-dev libncurses-dev libtinfo5
      libffi-dev libssl-dev ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages for the APK build: ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
