//! `hdl emit-board` and `hdl board-report`: the Rust half of `scripts/build.sh`.

use super::{Board, Design, Family, emit_board};
use clap::{Args, ValueEnum};
use common::DeviceConfig;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DesignArg {
    /// The accelerator top (engine + UART link).
    Accel,
    /// UART loopback bring-up design.
    Echo,
}

/// Write the board top Verilog (`OUT/<board>_top.v`).
#[derive(Args, Debug)]
pub struct EmitBoardArgs {
    /// Board: ulx3s or icebreaker.
    #[arg(long)]
    pub board: String,
    /// Device configuration (default: the board's own).
    #[arg(long)]
    pub config: Option<String>,
    /// What the board top wraps.
    #[arg(long, value_enum, default_value = "accel")]
    pub design: DesignArg,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

/// Summarise nextpnr's `--report` JSON (plus Yosys' `stat -json` for flip-flop counts on iCE40)
/// into `report.json`; fails when timing is not met.
#[derive(Args, Debug)]
pub struct BoardReportArgs {
    #[arg(long)]
    pub board: String,
    #[arg(long)]
    pub config: Option<String>,
    /// nextpnr `--report` output.
    #[arg(long)]
    pub nextpnr: PathBuf,
    /// Yosys `stat -json` output (optional).
    #[arg(long)]
    pub yosys_stat: Option<PathBuf>,
    /// Extra key=value facts to record (e.g. times, design), repeatable.
    #[arg(long = "set", value_parser = parse_kv)]
    pub set: Vec<(String, String)>,
    /// Where to write the summary.
    #[arg(long)]
    pub out: PathBuf,
}

/// Print the design clock of a board's configuration in MHz (nextpnr `--freq`).
#[derive(Args, Debug)]
pub struct BoardFreqArgs {
    #[arg(long)]
    pub board: String,
    #[arg(long)]
    pub config: Option<String>,
}

pub fn board_freq_cmd(a: &BoardFreqArgs) -> Result<(), String> {
    let (_, cfg) = board_and_config(&a.board, &a.config)?;
    println!("{}", cfg.clock_hz as f64 / 1e6);
    Ok(())
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got '{s}'"))
}

fn board_and_config(board: &str, config: &Option<String>) -> Result<(Board, DeviceConfig), String> {
    let b = Board::by_name(board).ok_or_else(|| {
        let names: Vec<_> = Board::all().iter().map(|b| b.name).collect();
        format!("unknown board '{board}' (known: {})", names.join(", "))
    })?;
    let name = config.as_deref().unwrap_or(b.config);
    let cfg = DeviceConfig::by_name(name).ok_or_else(|| {
        let names: Vec<_> = DeviceConfig::all().into_iter().map(|c| c.name).collect();
        format!(
            "unknown configuration '{name}' (known: {})",
            names.join(", ")
        )
    })?;
    Ok((b, cfg))
}

pub fn emit_board_cmd(a: &EmitBoardArgs) -> Result<(), String> {
    let (board, cfg) = board_and_config(&a.board, &a.config)?;
    let design = match a.design {
        DesignArg::Accel => Design::Accel,
        DesignArg::Echo => Design::Echo,
    };
    let v = emit_board(&board, &cfg, design)?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let path = a.out.join(format!("{}.v", board.top));
    std::fs::write(&path, v).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "{}: top {} config {} at {} MHz",
        path.display(),
        board.top,
        cfg.name,
        cfg.clock_hz as f64 / 1e6
    );
    Ok(())
}

/// Resource kinds as nextpnr names them, per family: (report key, nextpnr cell type).
fn resource_cells(family: Family) -> &'static [(&'static str, &'static str)] {
    match family {
        Family::Ecp5 => &[
            ("luts", "TRELLIS_COMB"),
            ("ffs", "TRELLIS_FF"),
            ("slices", "TRELLIS_SLICE"),
            ("multipliers", "MULT18X18D"),
            ("block_rams", "DP16KD"),
            ("plls", "EHXPLLL"),
            ("io", "TRELLIS_IO"),
        ],
        Family::Ice40 => &[
            ("logic_cells", "ICESTORM_LC"),
            ("multipliers", "ICESTORM_DSP"),
            ("block_rams", "ICESTORM_RAM"),
            ("spram", "ICESTORM_SPRAM"),
            ("plls", "ICESTORM_PLL"),
            ("io", "SB_IO"),
        ],
    }
}

/// Build the summary from nextpnr's report (and optionally Yosys' stat). Returns it with the
/// timing verdict.
pub fn summarize(
    board: &Board,
    cfg: &DeviceConfig,
    nextpnr: &Value,
    yosys_stat: Option<&Value>,
) -> Result<(Value, bool), String> {
    let util = nextpnr
        .get("utilization")
        .and_then(Value::as_object)
        .ok_or("nextpnr report has no 'utilization'")?;
    let mut res = serde_json::Map::new();
    for (key, cell) in resource_cells(board.family) {
        // nextpnr-ice40 0.4 calls the DSP "ICESTORM_DSP"; newer ones may say "SB_MAC16".
        let u = util.get(*cell).or_else(|| {
            (*cell == "ICESTORM_DSP")
                .then(|| util.get("SB_MAC16"))
                .flatten()
        });
        if let Some(u) = u {
            res.insert(
                key.to_string(),
                json!({"used": u.get("used"), "available": u.get("available")}),
            );
        }
    }
    // iCE40 logic cells pack a LUT and a flip-flop: take the flip-flop count from Yosys.
    if let Some(stat) = yosys_stat
        && !res.contains_key("ffs")
    {
        let cells = stat
            .pointer("/design/num_cells_by_type")
            .and_then(Value::as_object)
            .ok_or("Yosys stat has no design/num_cells_by_type")?;
        let ffs: u64 = cells
            .iter()
            .filter(|(k, _)| k.starts_with("SB_DFF") || k.starts_with("TRELLIS_FF"))
            .filter_map(|(_, v)| v.as_u64())
            .sum();
        let luts: u64 = cells
            .iter()
            .filter(|(k, _)| k.as_str() == "SB_LUT4")
            .filter_map(|(_, v)| v.as_u64())
            .sum();
        res.insert("ffs".into(), json!({"used": ffs}));
        if board.family == Family::Ice40 {
            res.insert("luts".into(), json!({"used": luts}));
        }
    }
    let fmax = nextpnr
        .get("fmax")
        .and_then(Value::as_object)
        .ok_or("nextpnr report has no 'fmax'")?;
    let target_mhz = cfg.clock_hz as f64 / 1e6;
    let mut clocks = serde_json::Map::new();
    let mut met = !fmax.is_empty();
    let mut design_fmax = None;
    for (net, v) in fmax {
        let achieved = v
            .get("achieved")
            .and_then(Value::as_f64)
            .ok_or("fmax entry without 'achieved'")?;
        let constraint = v
            .get("constraint")
            .and_then(Value::as_f64)
            .unwrap_or(target_mhz);
        met &= achieved >= constraint;
        clocks.insert(
            net.clone(),
            json!({"achieved_mhz": achieved, "constraint_mhz": constraint}),
        );
        // The design clock is the one constrained at the configuration's frequency.
        if (constraint - target_mhz).abs() < 0.01 {
            design_fmax = Some(achieved);
        }
    }
    let design_met = design_fmax.is_some_and(|f| f >= target_mhz);
    let timing_met = met && design_met;
    let summary = json!({
        "board": board.name,
        "part": board.part,
        "config": cfg.name,
        "config_array_multipliers": cfg.multipliers(),
        "target_mhz": target_mhz,
        "fmax_mhz": design_fmax,
        "timing_met": timing_met,
        "clocks": clocks,
        "resources": res,
    });
    Ok((summary, timing_met))
}

fn read_json(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

pub fn board_report_cmd(a: &BoardReportArgs) -> Result<(), String> {
    let (board, cfg) = board_and_config(&a.board, &a.config)?;
    let nextpnr = read_json(&a.nextpnr)?;
    let stat = a.yosys_stat.as_ref().map(read_json).transpose()?;
    let (mut summary, met) = summarize(&board, &cfg, &nextpnr, stat.as_ref())?;
    for (k, v) in &a.set {
        let val = match (v.parse::<i64>(), v.parse::<f64>()) {
            (Ok(i), _) => json!(i),
            (_, Ok(f)) => json!(f),
            _ => json!(v),
        };
        summary[k.as_str()] = val;
    }
    let text = serde_json::to_string_pretty(&summary).expect("JSON value serialises");
    std::fs::write(&a.out, format!("{text}\n"))
        .map_err(|e| format!("cannot write {}: {e}", a.out.display()))?;
    println!("{text}");
    if !met {
        return Err(format!(
            "timing NOT met: design clock reaches {} MHz, target {} MHz",
            summary["fmax_mhz"], summary["target_mhz"]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecp5_report(achieved: f64) -> Value {
        json!({
            "utilization": {
                "TRELLIS_COMB": {"used": 1200, "available": 83640},
                "TRELLIS_FF": {"used": 900, "available": 83640},
                "MULT18X18D": {"used": 136, "available": 156},
                "DP16KD": {"used": 180, "available": 208},
                "EHXPLLL": {"used": 1, "available": 4}
            },
            "fmax": {
                "$glbnet$clk_25mhz$TRELLIS_IO_IN": {"achieved": 300.0, "constraint": 25.0},
                "$glbnet$clock": {"achieved": achieved, "constraint": 100.0}
            }
        })
    }

    #[test]
    fn summary_reads_resources_and_timing() {
        let (s, met) = summarize(
            &Board::ulx3s(),
            &DeviceConfig::ulx3s(),
            &ecp5_report(104.2),
            None,
        )
        .unwrap();
        assert!(met);
        assert_eq!(s["resources"]["multipliers"]["used"], 136);
        assert_eq!(s["resources"]["block_rams"]["available"], 208);
        assert_eq!(s["fmax_mhz"], 104.2);
        assert_eq!(s["target_mhz"], 100.0);
        let (s, met) = summarize(
            &Board::ulx3s(),
            &DeviceConfig::ulx3s(),
            &ecp5_report(96.0),
            None,
        )
        .unwrap();
        assert!(!met);
        assert_eq!(s["timing_met"], false);
    }

    #[test]
    fn summary_rejects_reports_without_the_design_clock() {
        let mut r = ecp5_report(120.0);
        r["fmax"].as_object_mut().unwrap().remove("$glbnet$clock");
        let (_, met) = summarize(&Board::ulx3s(), &DeviceConfig::ulx3s(), &r, None).unwrap();
        assert!(!met, "a report without the 100 MHz clock must not pass");
        assert!(summarize(&Board::ulx3s(), &DeviceConfig::ulx3s(), &json!({}), None).is_err());
    }
}
