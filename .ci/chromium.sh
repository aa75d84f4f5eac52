#!/usr/bin/env bash
# Install Debian's Chromium and its WebDriver for the tests that open the HTML reports in a
# headless browser. Idempotent.
set -euo pipefail
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null
fi
