// A whole simulated board: the Verilated `sqz_top` (link + engine), with the host's bytes
// going in and the answers coming out either bit by bit through its UART pins or through
// its byte-stream port (valid/ready, the PCIe-style path). The clock loop lives here, so
// Rust makes one FFI call per burst of host bytes.
#pragma once
#include <cstddef>
#include <cstdint>

// Link modes shared with sim/src/board.rs (`Link`).
enum SqzLinkMode {
    SQZ_LINK_UART = 0,
    SQZ_LINK_STREAM = 1,
};

struct SqzBoardStats {
    uint64_t cycles;           // clocked since the model was made
    uint64_t busy_cycles;      // of which the engine or the dispatcher was busy
    uint64_t bytes_in;         // delivered to the device (UART line or stream port)
    uint64_t bytes_out;        // decoded from the device
    uint64_t framing_errors;   // answer bytes whose stop bit was low (UART mode)
};

class SqzBoard {
public:
    virtual ~SqzBoard() {}
    // Choose how bytes travel; `bit_cycles` is the UART bit period in clock cycles.
    virtual void set_link(int mode, double bit_cycles) = 0;
    // Queue `n` host bytes, then clock until everything is delivered and the device has been
    // quiet for `quiet` cycles (engine idle, no answer byte on the way), or `max_cycles` pass.
    // Returns 1 when quiet, 0 at the cycle limit.
    virtual int exchange(const uint8_t* in, size_t n, uint64_t quiet, uint64_t max_cycles) = 0;
    // Move up to `cap` answer bytes out; returns how many.
    virtual size_t take(uint8_t* out, size_t cap) = 0;
    virtual SqzBoardStats stats() const = 0;
};
