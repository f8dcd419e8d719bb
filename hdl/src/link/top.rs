//! `sqz_top`: the engine `sqz_core` behind the link. The engine is its own Verilog module
//! (docs/architecture.md, "Core ports"), so the top is a small hand-written wrapper that
//! instantiates `sqz_link` (emitted from [`SqzLink`](super::SqzLink)) and the core by name.

use common::DeviceConfig;

use super::link_verilog;

/// Verilog of `sqz_link` and the wrapper module `sqz_top` around it and the module
/// `core` (which has the `sqz_core` ports and is emitted separately).
pub fn top_verilog(cfg: &DeviceConfig, core: &str) -> String {
    top_verilog_with(cfg, core, None)
}

/// [`top_verilog`], with the module `sdram` (`hdl::sdram::SdramSys`' ports, emitted
/// separately) between the link and the engine when given: it shares the engine's bus with
/// its DMA, and its SDRAM pins (`sd_*`) and `dma_busy` become ports of `sqz_top`.
pub fn top_verilog_with(cfg: &DeviceConfig, core: &str, sdram: Option<&str>) -> String {
    // A heartbeat of about 1.5 Hz on `led_alive`.
    let alive_bit = (cfg.clock_hz as f64 / 3.0).log2().ceil().max(1.0) as u32;
    let link = link_verilog(cfg, "sqz_link");
    // Without the SDRAM the engine is on the link's bus wires directly.
    let (sd_ports, sd_wires, sd_inst, c, busy_led) = match sdram {
        None => (String::new(), String::new(), String::new(), "", ""),
        Some(m) => (
            ",
    output wire        sd_cke,
    output wire        sd_cs_n,
    output wire        sd_ras_n,
    output wire        sd_cas_n,
    output wire        sd_we_n,
    output wire [1:0]  sd_ba,
    output wire [12:0] sd_a,
    output wire [1:0]  sd_dqm,
    output wire [15:0] sd_dq_out,
    output wire        sd_dq_oe,
    input  wire [15:0] sd_dq_in,
    output wire        dma_busy"
                .to_string(),
            "    wire [23:0] c_bus_addr;
    wire [63:0] c_bus_wdata;
    wire        c_bus_write;
    wire        c_bus_read;
    wire [63:0] c_bus_rdata;
    wire        c_bus_rvalid;
    wire        c_start;
"
            .to_string(),
            format!(
                "
    {m} sdram (
        .clock(clock), .reset(core_reset),
        .l_addr(bus_addr), .l_wdata(bus_wdata), .l_write(bus_write), .l_read(bus_read),
        .l_rdata(bus_rdata), .l_rvalid(bus_rvalid), .l_start(start),
        .c_addr(c_bus_addr), .c_wdata(c_bus_wdata), .c_write(c_bus_write), .c_read(c_bus_read),
        .c_rdata(c_bus_rdata), .c_rvalid(c_bus_rvalid), .c_start(c_start), .c_busy(busy),
        .dma_busy(dma_busy),
        .sd_cke(sd_cke), .sd_cs_n(sd_cs_n), .sd_ras_n(sd_ras_n), .sd_cas_n(sd_cas_n),
        .sd_we_n(sd_we_n), .sd_ba(sd_ba), .sd_a(sd_a), .sd_dqm(sd_dqm),
        .sd_dq_out(sd_dq_out), .sd_dq_oe(sd_dq_oe), .sd_dq_in(sd_dq_in)
    );
"
            ),
            "c_",
            " | dma_busy",
        ),
    };
    format!(
        r#"{link}

// The accelerator: engine + host link. Scalar ports only (board tops add PLL and reset sync).
module sqz_top (
    input  wire       clock,
    input  wire       reset,
    input  wire       uart_rx,
    output wire       uart_tx,
    input  wire       stream_select,
    input  wire [7:0] stream_in_data,
    input  wire       stream_in_valid,
    output wire       stream_in_ready,
    output wire [7:0] stream_out_data,
    output wire       stream_out_valid,
    input  wire       stream_out_ready,
    output wire       led_busy,
    output wire       led_error,
    output wire       led_alive{sd_ports}
);
    wire [23:0] bus_addr;
    wire [63:0] bus_wdata;
    wire        bus_write;
    wire        bus_read;
    wire [63:0] bus_rdata;
    wire        bus_rvalid;
    wire        start;
    wire        core_reset;
    wire        busy;
    wire        done;
    wire [31:0] job_cycles;
    wire        running;
    wire        error;
    reg  [{hb}:0] heartbeat;
{sd_wires}
    always @(posedge clock) begin
        if (reset) heartbeat <= 0;
        else heartbeat <= heartbeat + 1'b1;
    end

    assign led_busy = running | busy{busy_led};
    assign led_error = error;
    assign led_alive = heartbeat[{hb}];

    sqz_link link (
        .clock(clock), .reset(reset),
        .uart_rx(uart_rx), .uart_tx(uart_tx),
        .stream_select(stream_select),
        .stream_in_data(stream_in_data), .stream_in_valid(stream_in_valid),
        .stream_in_ready(stream_in_ready),
        .stream_out_data(stream_out_data), .stream_out_valid(stream_out_valid),
        .stream_out_ready(stream_out_ready),
        .bus_addr(bus_addr), .bus_wdata(bus_wdata), .bus_write(bus_write), .bus_read(bus_read),
        .bus_rdata(bus_rdata), .bus_rvalid(bus_rvalid),
        .start(start), .core_reset(core_reset), .done(done), .job_cycles(job_cycles),
        .running(running), .error(error)
    );
{sd_inst}
    {core} core (
        .clock(clock), .reset(core_reset),
        .bus_addr({c}bus_addr), .bus_wdata({c}bus_wdata), .bus_write({c}bus_write),
        .bus_read({c}bus_read), .bus_rdata({c}bus_rdata), .bus_rvalid({c}bus_rvalid),
        .start({c}start), .busy(busy), .done(done), .job_cycles(job_cycles)
    );
endmodule
"#,
        hb = alive_bit - 1,
    )
}
