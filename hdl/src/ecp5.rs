//! The ECP5 primitives the ULX3S build instantiates, and simulation models of them.
//!
//! - `dp16kd`: a DP16KD block RAM as a simple dual-port RAM (port A writes, port B reads)
//!   whose read data passes the RAM's own output register (`REGMODE_B = "OUTREG"`). Yosys
//!   0.70 infers DP16KD without it, and nextpnr times a DP16KD read without it several times
//!   slower (clock-to-out; docs/results.md, "How timing was closed"). Pins are driven the way
//!   Yosys' own `brams_map_16kd.v` drives them: in the 9-bit mode the word address is on
//!   AD[13:3], in the 18-bit mode on AD[13:4] with the byte write enables on AD[1:0].
//! - `DP16KD_MODEL`, `MULT18X18D_MODEL`: Verilog models of exactly the subset of the two cells
//!   that `dp16kd`, `mul8.rs` and `requant.rs` use, for Verilator (Yosys ships both cells
//!   only as black boxes). Any other parameter value stops the simulation at time 0. The
//!   DP16KD read and reset timing follow Lattice's own simulation model of the DP16K cells:
//!   the address is registered at the clock edge and the word appears after it (NOREG); the
//!   output register takes that word at the next edge (OUTREG); a synchronous RST clears both
//!   and cancels the port's access at that edge.

/// The words a DP16KD holds in `width`-bit mode (9 or 18).
pub fn dp16kd_depth(width: usize) -> usize {
    match width {
        9 => 2048,
        18 => 1024,
        _ => panic!("DP16KD width {width} is not used here"),
    }
}

/// A DP16KD instance `name` in `width`-bit mode (9 or 18) on `clock`: writes `wd` (a wire of
/// `width` bits) at word `wa` when `we`, reads word `ra` into `dout` (a wire of `width` bits)
/// through the output register: read latency 2 from `ra` (the RAM's address register, then
/// its output register). `wa` and `ra` are wires of `log2(depth)` bits. `site`: where nextpnr
/// places it (`floorplan`), or anywhere.
#[allow(clippy::too_many_arguments)]
pub fn dp16kd(
    name: &str,
    width: usize,
    wa: &str,
    wd: &str,
    we: &str,
    ra: &str,
    dout: &str,
    site: Option<&str>,
) -> String {
    let ab = dp16kd_depth(width).trailing_zeros() as usize;
    let lo = 14 - ab;
    let mut pins = String::new();
    for b in 0..14 {
        let (a, r) = if b >= lo {
            (format!("{wa}[{}]", b - lo), format!("{ra}[{}]", b - lo))
        } else if width == 18 && b < 2 {
            // Byte write enables: both bytes of every word.
            ("1'b1".into(), "1'b0".into())
        } else {
            ("1'b0".into(), "1'b0".into())
        };
        pins += &format!(".ADA{b}({a}), .ADB{b}({r}), ");
    }
    for b in 0..18 {
        let d = if b < width {
            format!("{wd}[{b}]")
        } else {
            "1'b0".into()
        };
        pins += &format!(
            ".DIA{b}({d}), .DIB{b}(1'b0), .DOA{b}({name}_doa[{b}]), .DOB{b}({name}_dob[{b}]), "
        );
    }
    // Every pin connected (port A's read data and the unused high bits to unused wires).
    format!(
        "wire [17:0] {name}_doa;
wire [17:0] {name}_dob;
assign {dout} = {name}_dob[{w1}:0];
{bel}DP16KD #(.DATA_WIDTH_A({width}), .DATA_WIDTH_B({width}), .REGMODE_A(\"NOREG\"), .REGMODE_B(\"OUTREG\"),
   .RESETMODE(\"SYNC\"), .ASYNC_RESET_RELEASE(\"SYNC\"), .CSDECODE_A(\"0b000\"), .CSDECODE_B(\"0b000\"),
   .WRITEMODE_A(\"NORMAL\"), .WRITEMODE_B(\"NORMAL\"), .GSR(\"AUTO\"))
   {name} ({pins}
   .CLKA(clock), .CEA(1'b1), .OCEA(1'b1), .WEA({we}), .RSTA(1'b0), .CSA0(1'b0), .CSA1(1'b0), .CSA2(1'b0),
   .CLKB(clock), .CEB(1'b1), .OCEB(1'b1), .WEB(1'b0), .RSTB(1'b0), .CSB0(1'b0), .CSB1(1'b0), .CSB2(1'b0));
",
        w1 = width - 1,
        bel = crate::floorplan::bel_attr(site),
    )
}

/// Verilog port list text: `<dir> P<hi>, ..., P0` per bus.
fn pins(dir: &str, names: &[(&str, usize)]) -> String {
    names
        .iter()
        .map(|&(p, n)| {
            let bits: Vec<String> = (0..n).rev().map(|b| format!("{p}{b}")).collect();
            format!("   {dir} {},\n", bits.join(", "))
        })
        .collect()
}

/// Concatenation `{P<n-1>, ..., P0}`.
fn bus(p: &str, n: usize) -> String {
    let bits: Vec<String> = (0..n).rev().map(|b| format!("{p}{b}")).collect();
    format!("{{{}}}", bits.join(", "))
}

/// Simulation model of the DP16KD subset used here (and by Yosys' mapping of such RAMs): 9- or
/// 18-bit mode, the same on both ports; NORMAL write mode (a port that writes leaves its read
/// data as it was) or READBEFOREWRITE (it reads the old word); NOREG or OUTREG; synchronous
/// reset (an asynchronous one must stay low); chip selects decoded as 0b000; no initial
/// contents (the RAM reads 0 until written, as after configuration with zero INITVALs).
pub fn dp16kd_model() -> String {
    // Not traced: the cells' pins and internals would double the traced signals of a core
    // (and the C++ to compile); the nets connected to them are traced in the design.
    let mut v = String::from("/* verilator tracing_off */\nmodule DP16KD (\n");
    v += &pins("input", &[("DIA", 18), ("ADA", 14), ("CSA", 3)]);
    v += "   input CEA, OCEA, CLKA, WEA, RSTA,\n";
    v += &pins("output", &[("DOA", 18)]);
    v += &pins("input", &[("DIB", 18), ("ADB", 14), ("CSB", 3)]);
    v += "   input CEB, OCEB, CLKB, WEB, RSTB,\n";
    v += pins("output", &[("DOB", 18)])
        .trim_end()
        .trim_end_matches(',');
    v += "\n);\n";
    // Yosys' own mapping (`brams_map_16kd.v`) passes every INITVAL, all zero here.
    let initvals: String = (0..64)
        .map(|i| format!("parameter INITVAL_{i:02X} = 320'd0;\n"))
        .collect();
    let initvals_zero = (0..64)
        .map(|i| format!("INITVAL_{i:02X} != 320'd0"))
        .collect::<Vec<_>>()
        .join(" || ");
    v += &"parameter DATA_WIDTH_A = 18;
parameter DATA_WIDTH_B = 18;
parameter REGMODE_A = \"NOREG\";
parameter REGMODE_B = \"NOREG\";
parameter RESETMODE = \"SYNC\";
parameter ASYNC_RESET_RELEASE = \"SYNC\";
parameter CSDECODE_A = \"0b000\";
parameter CSDECODE_B = \"0b000\";
parameter WRITEMODE_A = \"NORMAL\";
parameter WRITEMODE_B = \"NORMAL\";
parameter GSR = \"ENABLED\";
parameter CLKAMUX = \"CLKA\";
parameter CLKBMUX = \"CLKB\";
{initvals}initial begin
   if (CLKAMUX != \"CLKA\" || CLKBMUX != \"CLKB\") $fatal(1, \"DP16KD model: clocks not inverted only\");
   if ({initvals_zero}) $fatal(1, \"DP16KD model: no initial contents\");
   if (!(DATA_WIDTH_A == DATA_WIDTH_B && (DATA_WIDTH_A == 9 || DATA_WIDTH_A == 18))) $fatal(1, \"DP16KD model: widths 9/9 or 18/18 only\");
   if (CSDECODE_A != \"0b000\" || CSDECODE_B != \"0b000\") $fatal(1, \"DP16KD model: CSDECODE 0b000 only\");
   if ((WRITEMODE_A != \"NORMAL\" && WRITEMODE_A != \"READBEFOREWRITE\") || (WRITEMODE_B != \"NORMAL\" && WRITEMODE_B != \"READBEFOREWRITE\"))
      $fatal(1, \"DP16KD model: NORMAL or READBEFOREWRITE write mode only\");
   if ((REGMODE_A != \"NOREG\" && REGMODE_A != \"OUTREG\") || (REGMODE_B != \"NOREG\" && REGMODE_B != \"OUTREG\")) $fatal(1, \"DP16KD model: bad REGMODE\");
end
localparam W18 = DATA_WIDTH_A == 18;
// One entry per word: 1024 of 18 bits, or 2048 of 9 (the upper 9 bits stay 0). Reads happen
// in the clocked blocks only: a simulator re-evaluates a continuous read of the array
// whenever the RAM changes, and these models run in every simulated cycle.
reg [17:0] mem [0:2047];
integer i;
initial for (i = 0; i < 2048; i = i + 1) mem[i] = 18'd0;
"
    .replace("{initvals}", &initvals)
    .replace("{initvals_zero}", &initvals_zero);
    for p in ["A", "B"] {
        v += &format!(
            "wire [17:0] di{p} = {di};
wire [13:0] ad{p} = {ad};
wire [10:0] u{p} = W18 ? {{1'b0, ad{p}[13:4]}} : ad{p}[13:3];
wire cs{p} = {cs} == 3'b000;
reg [17:0] node{p} = 18'd0;
reg [17:0] oreg{p} = 18'd0;
always @(posedge CLK{p}) begin
   if (RST{p} && RESETMODE != \"SYNC\") $fatal(1, \"DP16KD model: asynchronous reset used\");
   if (RST{p}) begin
      node{p} <= 18'd0;
   end else if (CE{p} && cs{p}) begin
      if (WE{p}) begin
         if (!W18) mem[u{p}] <= {{9'd0, di{p}[8:0]}};
         else if (ad{p}[1:0] == 2'b11) mem[u{p}] <= di{p};
         else if (ad{p}[0]) mem[u{p}][8:0] <= di{p}[8:0];
         else if (ad{p}[1]) mem[u{p}][17:9] <= di{p}[17:9];
         if (WRITEMODE_{p} == \"READBEFOREWRITE\") node{p} <= mem[u{p}];
      end else begin
         node{p} <= mem[u{p}];
      end
   end
   if (RST{p}) oreg{p} <= 18'd0;
   else if (OCE{p}) oreg{p} <= node{p};
end
assign {dout} = (REGMODE_{p} == \"OUTREG\") ? oreg{p} : node{p};
",
            di = bus(&format!("DI{p}"), 18),
            ad = bus(&format!("AD{p}"), 14),
            cs = bus(&format!("CS{p}"), 3),
            dout = bus(&format!("DO{p}"), 18),
        );
    }
    v + "endmodule\n/* verilator tracing_on */\n"
}

/// Simulation model of the MULT18X18D subset used here: A and B from the pins (SOURCEA/B = 0),
/// each of the input registers and the output register either off ("NONE") or on CLK0 with
/// CE0 and a synchronous RST0; the 36-bit product of A and B, signed or unsigned per
/// SIGNEDA/SIGNEDB (as registered with the inputs).
pub fn mult18x18d_model() -> String {
    let mut v = String::from("/* verilator tracing_off */\nmodule MULT18X18D (\n");
    v += &pins("input", &[("A", 18), ("B", 18), ("C", 18)]);
    v += "   input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CE0, RST0,\n";
    v += pins("output", &[("P", 36)])
        .trim_end()
        .trim_end_matches(',');
    v += "\n);\n";
    v += &format!(
        "parameter REG_INPUTA_CLK = \"NONE\";
parameter REG_INPUTB_CLK = \"NONE\";
parameter REG_OUTPUT_CLK = \"NONE\";
parameter GSR = \"ENABLED\";
initial begin
   if ((REG_INPUTA_CLK != \"NONE\" && REG_INPUTA_CLK != \"CLK0\") || (REG_INPUTB_CLK != \"NONE\" && REG_INPUTB_CLK != \"CLK0\")
       || (REG_OUTPUT_CLK != \"NONE\" && REG_OUTPUT_CLK != \"CLK0\")) $fatal(1, \"MULT18X18D model: registers on CLK0 or none\");
end
wire [17:0] a = {a};
wire [17:0] b = {b};
reg [17:0] ar = 18'd0;
reg [17:0] br = 18'd0;
reg sar = 1'b0;
reg sbr = 1'b0;
reg [35:0] pr = 36'd0;
always @(posedge CLK0) begin
   if (RST0) begin
      ar <= 18'd0; br <= 18'd0; sar <= 1'b0; sbr <= 1'b0;
   end else if (CE0) begin
      ar <= a; br <= b; sar <= SIGNEDA; sbr <= SIGNEDB;
   end
end
wire [17:0] am = REG_INPUTA_CLK == \"CLK0\" ? ar : a;
wire [17:0] bm = REG_INPUTB_CLK == \"CLK0\" ? br : b;
wire sa = REG_INPUTA_CLK == \"CLK0\" ? sar : SIGNEDA;
wire sb = REG_INPUTB_CLK == \"CLK0\" ? sbr : SIGNEDB;
wire [35:0] ax = {{{{18{{sa & am[17]}}}}, am}};
wire [35:0] bx = {{{{18{{sb & bm[17]}}}}, bm}};
wire [35:0] p = ax * bx;
always @(posedge CLK0) begin
   if (RST0) pr <= 36'd0;
   else if (CE0) pr <= p;
end
assign {pout} = REG_OUTPUT_CLK == \"CLK0\" ? pr : p;
endmodule
/* verilator tracing_on */
",
        a = bus("A", 18),
        b = bus("B", 18),
        pout = bus("P", 36),
    );
    v
}
