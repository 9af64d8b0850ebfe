#!/bin/sh
# Install the tools that regenerate tests/recordings/ (espeak-ng speech synthesis, sox).
# Only needed to regenerate the recordings; the tests use the committed WAV files.
# Idempotent: does nothing when both tools are already on PATH. Needs root (or sudo) on Debian/Ubuntu.
set -eu

if command -v espeak-ng >/dev/null 2>&1 && command -v sox >/dev/null 2>&1; then
    echo "espeak-ng and sox are already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends espeak-ng sox
espeak-ng --version
sox --version
