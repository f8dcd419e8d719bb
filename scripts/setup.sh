#!/usr/bin/env bash
# Installs the system packages the build and the tests need on a fresh Debian machine
# (run as root, or with sudo available). Idempotent: does nothing already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v verilator >/dev/null || need_apt+=(verilator)
command -v yosys >/dev/null || need_apt+=(yosys)
command -v g++ >/dev/null || need_apt+=(g++)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
dpkg -s libudev-dev >/dev/null 2>&1 || need_apt+=(libudev-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
echo "setup: $(verilator --version); $(yosys -V)"
# The FPGA flow (Yosys/nextpnr for ECP5 and iCE40): the tests build a small configuration.
bash scripts/setup-fpga.sh --no-loader
