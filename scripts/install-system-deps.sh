#!/usr/bin/env bash
# Installs the system packages Portent needs to build and test: a C++ toolchain for the native
# modules (better-sqlite3, cap), libpcap headers for packet capture, iproute2's `ss` and
# tcpdump that tests compare against, Chromium with Xvfb for the UI's end-to-end tests, GNU patch
# and setcap for installs, and the receivers the fleet tests feed: Prometheus, Alertmanager and
# rsyslog. Then Node.js 22.13 or later (install-node.sh), which installs it when the machine's is
# older.
set -euo pipefail

case "$(uname -s)" in
  Darwin)
    # libpcap ships with macOS; the native modules need Apple's command line tools.
    if ! xcode-select -p >/dev/null 2>&1; then
      echo "Installing Apple's command line tools (needed to build native modules)..."
      xcode-select --install || true
    fi
    exec bash "$(dirname "$0")/install-node.sh"
    ;;
  Linux) ;;
  *)
    echo "Portent runs on Linux and macOS; $(uname -s) is not supported." >&2
    exit 1
    ;;
esac

if ! command -v apt-get >/dev/null 2>&1; then
  echo "This script knows Debian and Ubuntu (apt). Install the equivalents of:" >&2
  echo "  Node.js 22.13 or later, build tools (gcc, g++, make, python3, patch), libpcap development headers, iproute2, tcpdump, setcap, chromium, xvfb, prometheus, prometheus-alertmanager, rsyslog, rsyslog-gnutls" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Run this script as root (or install sudo): it installs apt packages." >&2
    exit 1
  fi
fi

packages=(build-essential patch python3 libpcap-dev iproute2 procps tcpdump libcap2-bin chromium xvfb prometheus prometheus-alertmanager rsyslog rsyslog-gnutls)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "System packages already installed."
else
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

exec bash "$(dirname "$0")/install-node.sh"
