// extern "C" entry points over SqzSim; the Rust side (sim/src/verilated.rs) is their only user.
#include "board.h"
#include "harness.h"
#include <ctime>

extern "C" {

void sqz_free(SqzSim* s) { delete s; }

// CPU time of the calling thread: simulation speed that does not depend on machine load.
uint64_t sqz_thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

int sqz_poke(SqzSim* s, int port, uint64_t v) { return s->poke(port, v); }

int sqz_peek(SqzSim* s, int port, uint64_t* v) { return s->peek(port, v); }

void sqz_ticks(SqzSim* s, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) s->tick();
}

uint64_t sqz_cycles(SqzSim* s) { return s->cycles(); }

int sqz_trace_open(SqzSim* s, const char* path, uint64_t from, uint64_t to) {
    return s->trace_open(path, from, to);
}

void sqz_trace_close(SqzSim* s) { s->trace_close(); }

static bool is_busy(SqzSim* s) {
    uint64_t b = 0;
    s->peek(SQZ_BUSY, &b);
    return b != 0;
}

// Write n consecutive words from address addr, one per cycle.
int sqz_bus_write(SqzSim* s, uint32_t addr, const uint64_t* words, uint64_t n) {
    if (is_busy(s)) return SQZ_BUSY_ON_BUS;
    for (uint64_t i = 0; i < n; ++i) {
        s->poke(SQZ_BUS_ADDR, addr + i);
        s->poke(SQZ_BUS_WDATA, words[i]);
        s->poke(SQZ_BUS_WRITE, 1);
        s->tick();
    }
    s->poke(SQZ_BUS_WRITE, 0);
    return SQZ_OK;
}

// Read n consecutive words. Pipelined: one request per cycle, responses collected from the
// bus_rvalid pulses in order (the contract fixes the latency, so order is kept). Otherwise one
// request at a time. Either way a wait of more than max_wait cycles for a pulse is a timeout.
int sqz_bus_read(SqzSim* s, uint32_t addr, uint64_t* out, uint64_t n, uint64_t max_wait,
                 int pipelined) {
    if (is_busy(s)) return SQZ_BUSY_ON_BUS;
    uint64_t issued = 0, got = 0, waited = 0;
    while (got < n) {
        bool issue = issued < n && (pipelined || issued == got);
        s->poke(SQZ_BUS_ADDR, addr + issued);
        s->poke(SQZ_BUS_READ, issue ? 1 : 0);
        if (issue) ++issued;
        s->tick();
        uint64_t valid = 0;
        s->peek(SQZ_BUS_RVALID, &valid);
        if (valid) {
            if (got == issued) {  // a pulse nobody asked for
                s->poke(SQZ_BUS_READ, 0);
                return SQZ_SPURIOUS_RVALID;
            }
            s->peek(SQZ_BUS_RDATA, &out[got++]);
            waited = 0;
        } else if (got < issued && waited++ >= max_wait) {
            s->poke(SQZ_BUS_READ, 0);
            return SQZ_TIMEOUT;
        }
    }
    s->poke(SQZ_BUS_READ, 0);
    return SQZ_OK;
}

// Pulse start, then clock until done (at most max_cycles) and busy low. *job_cycles gets the
// core's job_cycles port, *harness_cycles the cycles the harness clocked from start on.
int sqz_run(SqzSim* s, uint64_t max_cycles, uint64_t* job_cycles, uint64_t* harness_cycles) {
    s->poke(SQZ_START, 1);
    s->tick();
    s->poke(SQZ_START, 0);
    uint64_t n = 1, done = 0;
    s->peek(SQZ_DONE, &done);
    while (!done) {
        if (n >= max_cycles) {
            *harness_cycles = n;
            return SQZ_TIMEOUT;
        }
        // busy may rise a few cycles after start (registered); later it must hold until done.
        if (n > 4 && !is_busy(s)) {
            *harness_cycles = n;
            return SQZ_NOT_BUSY;
        }
        s->tick();
        ++n;
        s->peek(SQZ_DONE, &done);
    }
    // busy may fall a few cycles after the done pulse; the bus is free once it has, and
    // job_cycles (possibly registered after done) is read then.
    for (int i = 0; is_busy(s); ++i) {
        if (i == 16) {
            *harness_cycles = n;
            return SQZ_TIMEOUT;
        }
        s->tick();
        ++n;
    }
    s->peek(SQZ_JOB_CYCLES, job_cycles);
    *harness_cycles = n;
    return SQZ_OK;
}

void sqz_board_free(SqzBoard* b) { delete b; }

void sqz_board_set_link(SqzBoard* b, int mode, double bit_cycles) { b->set_link(mode, bit_cycles); }

int sqz_board_exchange(SqzBoard* b, const uint8_t* in, size_t n, uint64_t quiet,
                       uint64_t max_cycles) {
    return b->exchange(in, n, quiet, max_cycles);
}

size_t sqz_board_take(SqzBoard* b, uint8_t* out, size_t cap) { return b->take(out, cap); }

void sqz_board_stats(SqzBoard* b, SqzBoardStats* s) { *s = b->stats(); }
}
