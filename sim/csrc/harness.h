// Thin C++ harness around a Verilated model with the `sqz_core` port contract
// (docs/architecture.md, "Core ports"). The hot loops (bus bursts, run until done) live
// here so Rust makes one FFI call per burst or job, not one per cycle.
#pragma once
#include <cstdint>

// Port numbers shared with sim/src/verilated.rs (`Port`).
enum SqzPort {
    SQZ_RESET = 0,
    SQZ_BUS_ADDR = 1,
    SQZ_BUS_WDATA = 2,
    SQZ_BUS_WRITE = 3,
    SQZ_BUS_READ = 4,
    SQZ_START = 5,
    SQZ_BUS_RDATA = 6,
    SQZ_BUS_RVALID = 7,
    SQZ_BUSY = 8,
    SQZ_DONE = 9,
    SQZ_JOB_CYCLES = 10,
};

// Status codes shared with Rust.
enum SqzStatus {
    SQZ_OK = 0,
    SQZ_TIMEOUT = 1,      // cycle limit reached before `done` / `bus_rvalid`
    SQZ_BAD_PORT = 2,
    SQZ_TRACE_FAILED = 3,
    SQZ_BUSY_ON_BUS = 4,  // bus access attempted while the core is busy
    SQZ_SPURIOUS_RVALID = 5,  // bus_rvalid without an outstanding read
    SQZ_NOT_BUSY = 6,     // busy low (and no done) after start: the job never ran or stopped
};

class SqzSim {
public:
    virtual ~SqzSim() {}
    virtual int poke(int port, uint64_t value) = 0;
    virtual int peek(int port, uint64_t* value) = 0;
    // One clock cycle: falling then rising edge, inputs sampled at the rising edge.
    virtual void tick() = 0;
    virtual uint64_t cycles() const = 0;
    // Dump only cycles in [from, to) (counted from the model's creation).
    virtual int trace_open(const char* path, uint64_t from, uint64_t to) = 0;
    virtual void trace_close() = 0;
};

extern "C" {
typedef SqzSim* (*sqz_new_fn)();
}
