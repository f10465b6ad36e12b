#!/usr/bin/env bash
# System set-up for httptap on Debian/Ubuntu (run as root): bcc, bpftool, kernel headers,
# the peers the live tests talk to, and tracefs. Idempotent; quick when everything is there.
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

pkgs=(python3-bpfcc bpftool python3-venv python3-dev
      nginx-light curl nghttp2-client wrk tshark nodejs openssl neovim tmux sudo fzf
      golang-go)
for p in "${pkgs[@]}"; do have "$p" || need+=("$p"); done
# NodeSource's nodejs carries npm; Debian's does not (the VS Code extension builds with npm)
command -v npm >/dev/null 2>&1 || have npm || need+=(npm)

# Kernel headers: the exact package when the archive has one, else the distribution's
# newest (httptap then points bcc at a merged copy; see httptap/capture/kheaders.py).
kver=$(uname -r)
if [ ! -e "/lib/modules/$kver/build" ]; then
    if apt-cache show "linux-headers-$kver" >/dev/null 2>&1; then
        have "linux-headers-$kver" || need+=("linux-headers-$kver")
    elif ! ls -d /usr/src/linux-headers-*-common >/dev/null 2>&1; then
        need+=("linux-headers-$(dpkg --print-architecture)")
    fi
fi

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-system: need root to install: ${need[*]}" >&2
        exit 1
    fi
    echo "install-system: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/httptap-apt.log 2>&1; then
        apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/httptap-apt.log 2>&1 \
            || { echo "install-system: apt-get failed, see /tmp/httptap-apt.log" >&2; exit 1; }
    fi
fi

# nginx from Debian starts itself on :80; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    systemctl stop nginx >/dev/null 2>&1 || true
fi

if [ ! -e /sys/kernel/tracing/events ] && [ "$(id -u)" = 0 ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
