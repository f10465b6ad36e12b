#!/usr/bin/env bash
# System set-up for httptap on Debian/Ubuntu (run as root). Idempotent; quick when done.
#   install-system.sh               what httptap needs to run: bcc, kernel headers, tracefs,
#                                   sudo (for the helper), openssl (the demo's certificate)
#   install-system.sh --test-peers  also the real peers the live tests talk to (nginx, curl,
#                                   node, tshark, neovim, …)
#   --list                          print the packages of that set and exit
set -euo pipefail

runtime=(python3-bpfcc python3-venv python3-dev sudo openssl)
peers=(bpftool nginx-light curl nghttp2-client wrk tshark nodejs neovim tmux fzf prometheus
       golang-go)
want=("${runtime[@]}")
list=0
for arg in "$@"; do
    case "$arg" in
        --test-peers) want+=("${peers[@]}") ;;
        --list) list=1 ;;
        *) echo "install-system: unknown option $arg" >&2; exit 2 ;;
    esac
done
if [ "$list" = 1 ]; then
    printf '%s\n' "${want[@]}"
    exit 0
fi

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

for p in "${want[@]}"; do have "$p" || need+=("$p"); done
if [[ " ${want[*]} " == *" nodejs "* ]]; then
    # NodeSource's nodejs carries npm; Debian's does not (the VS Code extension builds with npm)
    command -v npm >/dev/null 2>&1 || have npm || need+=(npm)
fi

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

# nginx (:80) and prometheus (:9090) from Debian start themselves; the tests run their own.
for svc in nginx prometheus; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
done

if [ ! -e /sys/kernel/tracing/events ] && [ "$(id -u)" = 0 ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
