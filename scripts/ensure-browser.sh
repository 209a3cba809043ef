#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (no downloaded browser).
# Installs it when missing and we are root; otherwise says what to install.
set -euo pipefail
if [ -x "${CFPOS_CHROMIUM:-/usr/bin/chromium}" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing Debian's chromium package" >&2
  (apt-get install -y -q chromium >/dev/null 2>&1) || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  exit 0
fi
echo "error: Chromium is not installed. Install it (Debian: sudo apt-get install chromium)" \
     "or point CFPOS_CHROMIUM at a Chromium binary." >&2
exit 1
