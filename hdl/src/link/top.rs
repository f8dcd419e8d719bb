//! `sqz_top`: the engine `sqz_core` behind the link. The engine is its own Verilog module
//! (docs/architecture.md, "Core ports"), so the top is a small hand-written wrapper that
//! instantiates `sqz_link` (emitted from [`SqzLink`](super::SqzLink)) and the core by name.

use common::DeviceConfig;

use super::link_verilog;

/// Verilog of `sqz_link` and the wrapper module `sqz_top` around it and the module
/// `core` (which has the `sqz_core` ports and is emitted separately).
pub fn top_verilog(cfg: &DeviceConfig, core: &str) -> String {
    // A heartbeat of about 1.5 Hz on `led_alive`.
    let alive_bit = (cfg.clock_hz as f64 / 3.0).log2().ceil().max(1.0) as u32;
    let link = link_verilog(cfg, "sqz_link");
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
    output wire       led_alive
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

    always @(posedge clock) begin
        if (reset) heartbeat <= 0;
        else heartbeat <= heartbeat + 1'b1;
    end

    assign led_busy = running | busy;
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

    {core} core (
        .clock(clock), .reset(core_reset),
        .bus_addr(bus_addr), .bus_wdata(bus_wdata), .bus_write(bus_write), .bus_read(bus_read),
        .bus_rdata(bus_rdata), .bus_rvalid(bus_rvalid),
        .start(start), .busy(busy), .done(done), .job_cycles(job_cycles)
    );
endmodule
"#,
        hb = alive_bit - 1,
    )
}
