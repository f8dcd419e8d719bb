// Test fixture for the Verilator harness (not the product): a module with the `sqz_core`
// port contract whose behaviour is trivial to predict, so the harness (bus bursts, read
// latency, start/done handshake, cycle limit, tracing) is tested independently of the engine.
//
// Every region is one 256-word memory (index bits 7:0, region bits 23:20).
// A job: cycles = desc[0][31:0]; for i < desc[1], B[i] = A[i] ^ desc[2], one word per cycle.
// desc[0] = 32'hffffffff never finishes (exercises the harness's cycle limit);
// desc[0] = 32'hfffffffe drops busy after 10 cycles without done (a broken sequencer).
// Reads answer 3 cycles after `bus_read` (rvalid pulses), like a pipelined block RAM read.
module harness_fixture (
    input  wire        clock,
    input  wire        reset,
    input  wire [23:0] bus_addr,
    input  wire [63:0] bus_wdata,
    input  wire        bus_write,
    input  wire        bus_read,
    output reg  [63:0] bus_rdata,
    output reg         bus_rvalid,
    input  wire        start,
    output reg         busy,
    output reg         done,
    output reg  [31:0] job_cycles
);
    reg [63:0] mem [0:6*256-1];
    wire [10:0] slot = {bus_addr[22:20], bus_addr[7:0]};
    reg [63:0] rd1, rd2;
    reg        rv1, rv2;
    reg [31:0] count, target;
    reg [7:0]  copy_i;
    always @(posedge clock) begin
        done <= 1'b0;
        // read pipeline: 3 cycles from request to rvalid
        rd1 <= mem[slot];
        rv1 <= bus_read;
        rd2 <= rd1;
        rv2 <= rv1;
        bus_rdata <= rd2;
        bus_rvalid <= rv2;
        if (bus_write) mem[slot] <= bus_wdata;
        if (reset) begin
            busy <= 1'b0;
            count <= 32'd0;
            job_cycles <= 32'd0;
            rv1 <= 1'b0;
            rv2 <= 1'b0;
            bus_rvalid <= 1'b0;
        end else if (start && !busy) begin
            busy <= 1'b1;
            count <= 32'd1;
            target <= mem[0][31:0];
            copy_i <= 8'd0;
        end else if (busy) begin
            count <= count + 32'd1;
            if (copy_i < mem[1][7:0]) begin
                mem[2*256 + {3'd0, copy_i}] <= mem[1*256 + {3'd0, copy_i}] ^ mem[2];
                copy_i <= copy_i + 8'd1;
            end
            if (target == 32'hfffffffe) begin
                if (count == 32'd10) busy <= 1'b0;
            end else if (count >= target && target != 32'hffffffff) begin
                busy <= 1'b0;
                done <= 1'b1;
                job_cycles <= count;
            end
        end
    end
endmodule
