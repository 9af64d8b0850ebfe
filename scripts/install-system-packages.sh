#!/bin/sh
# Debian packages the project's tests use:
# - espeak-ng and sox: tests/recordings/make_recordings.py regenerates the recorded calls
#   and a test checks they come out identical;
# - redis-server: cluster mode's tests start real Redis servers;
# - chromium and chromium-driver: the softphone and call reports are tested in headless Chromium.
# Idempotent: installs only what is missing. Needs root (or sudo) on Debian/Ubuntu.
set -eu

missing=""
command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
command -v sox >/dev/null 2>&1 || missing="$missing sox"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
if [ -z "$missing" ]; then
    echo "system packages: all present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
