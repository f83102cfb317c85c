#!/usr/bin/env bash
# Debian's headless Chromium for the browser test (tests/test_browser.py drives it over the
# DevTools pipe: no driver needed). Called by `make test` and so by .ci/run: installs it with
# apt-get when it is missing and we are root; otherwise says how, and fails, since the browser
# test fails (never skips) without it. SPINE_AUDIT_SKIP_BROWSER=1 skips the test on purpose.
set -euo pipefail
if [ "${SPINE_AUDIT_SKIP_BROWSER:-}" = 1 ]; then exit 0; fi
if [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ]; then exit 0; fi
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test (apt-get)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "make test: chromium is missing and cannot be installed here (needs root and apt-get)." >&2
echo "Install Debian's chromium package (sudo apt-get install chromium), or run" >&2
echo "SPINE_AUDIT_SKIP_BROWSER=1 make test to skip the browser test on purpose." >&2
exit 1
