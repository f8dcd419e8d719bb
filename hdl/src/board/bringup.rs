//! Board bring-up design: the FT231X/FTDI UART looped back through the FPGA, with the busy LED
//! showing line activity. It checks clock, reset, pins and LEDs of a board without the accelerator,
//! and keeps the build flow testable on its own.

/// Verilog of module `sqz_echo` (ports `clock`, `reset`, `uart_rx`, `uart_tx`, `busy`).
pub fn uart_echo() -> String {
    "module sqz_echo(
    input  wire clock,
    input  wire reset,
    input  wire uart_rx,
    output wire uart_tx,
    output wire busy
);
    // Two flops bring the asynchronous line into the clock domain; the echo is delayed by a few
    // cycles, far below a bit time at any supported baud rate.
    reg [2:0] rx_sync = 3'b111;
    reg [15:0] activity = 0;
    always @(posedge clock) begin
        if (reset) begin
            rx_sync <= 3'b111;
            activity <= 0;
        end else begin
            rx_sync <= {rx_sync[1:0], uart_rx};
            if (!rx_sync[2]) activity <= 16'hffff;
            else if (activity != 0) activity <= activity - 1'b1;
        end
    end
    assign uart_tx = rx_sync[2];
    assign busy = activity != 0;
endmodule
"
    .to_string()
}
