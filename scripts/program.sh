#!/usr/bin/env bash
# Loads a bitstream built by scripts/build.sh with openFPGALoader.
#
#   scripts/program.sh ulx3s [--flash] [--out DIR]       # SRAM by default (lost at power-off)
#   scripts/program.sh icebreaker [--sram] [--out DIR]   # SPI flash by default
#
# The iCEBreaker's FTDI reaches the iCE40's configuration RAM only with the board's CRAM jumpers
# changed, so its default is the flash; --sram is for boards set up that way.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/program.sh ulx3s|icebreaker [--flash|--sram] [--out DIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
board="$1"; shift
out=""; mode=""
while [ $# -gt 0 ]; do
    case "$1" in
        --flash) mode=flash; shift ;;
        --sram) mode=sram; shift ;;
        --out) out="${2:?}"; shift 2 ;;
        *) echo "program: unknown option '$1'" >&2; usage ;;
    esac
done
out="${out:-build/$board}"
case "$board" in
    ulx3s) obl_board=ulx3s; bit="$out/ulx3s.bit"; mode="${mode:-sram}" ;;
    icebreaker) obl_board=ice40_generic; bit="$out/icebreaker.bin"; mode="${mode:-flash}" ;;
    *) echo "program: unknown board '$board' (ulx3s, icebreaker)" >&2; exit 2 ;;
esac
if [ ! -f "$bit" ]; then
    echo "program: $bit not found: run scripts/build.sh $board first" >&2; exit 1
fi
if [ ! -f "$out/report.json" ]; then
    echo "program: $out/report.json missing: the build of $bit did not finish, run scripts/build.sh $board" >&2; exit 1
fi
if ! grep -q '"timing_met": true' "$out/report.json"; then
    echo "program: $out/report.json says timing was not met: refusing to load $bit" >&2; exit 1
fi
loader="${OPENFPGALOADER:-openFPGALoader}"
if ! command -v "$loader" >/dev/null; then
    echo "program: openFPGALoader not found (apt-get install openfpgaloader, or scripts/setup-fpga.sh)" >&2; exit 1
fi
args=(-b "$obl_board")
if [ "$mode" = flash ]; then args+=(--write-flash --verify); else args+=(--write-sram); fi
echo "program: $loader ${args[*]} $bit"
exec "$loader" "${args[@]}" "$bit"
