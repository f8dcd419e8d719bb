// The model-specific half of the harness: included by the per-model file that build.rs
// generates, with SQZ_MODEL set to the Verilated class (`Vsqz_<config>`).
#pragma once
#include "harness.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

template <class M>
class SqzSimImpl : public SqzSim {
    VerilatedContext ctx;
    M* m;
    VerilatedVcdC* vcd = nullptr;
    uint64_t cycle = 0;
    uint64_t trace_from = 0, trace_to = 0;

    void dump() {
        if (vcd && cycle >= trace_from && cycle < trace_to) vcd->dump(ctx.time());
    }

public:
    SqzSimImpl() {
        ctx.traceEverOn(true);  // trace code is compiled in; costs nothing until a trace is opened
        m = new M(&ctx, "");
        m->clock = 0;
        m->reset = 1;
        m->eval();
    }
    ~SqzSimImpl() override {
        trace_close();
        m->final();
        delete m;
    }
    int poke(int port, uint64_t v) override {
        switch (port) {
        case SQZ_RESET: m->reset = v & 1; break;
        case SQZ_BUS_ADDR: m->bus_addr = v & 0xffffff; break;
        case SQZ_BUS_WDATA: m->bus_wdata = v; break;
        case SQZ_BUS_WRITE: m->bus_write = v & 1; break;
        case SQZ_BUS_READ: m->bus_read = v & 1; break;
        case SQZ_START: m->start = v & 1; break;
        default: return SQZ_BAD_PORT;
        }
        return SQZ_OK;
    }
    int peek(int port, uint64_t* v) override {
        switch (port) {
        case SQZ_RESET: *v = m->reset; break;
        case SQZ_BUS_ADDR: *v = m->bus_addr; break;
        case SQZ_BUS_WDATA: *v = m->bus_wdata; break;
        case SQZ_BUS_WRITE: *v = m->bus_write; break;
        case SQZ_BUS_READ: *v = m->bus_read; break;
        case SQZ_START: *v = m->start; break;
        case SQZ_BUS_RDATA: *v = m->bus_rdata; break;
        case SQZ_BUS_RVALID: *v = m->bus_rvalid; break;
        case SQZ_BUSY: *v = m->busy; break;
        case SQZ_DONE: *v = m->done; break;
        case SQZ_JOB_CYCLES: *v = m->job_cycles; break;
        default: return SQZ_BAD_PORT;
        }
        return SQZ_OK;
    }
    void tick() override {
        m->clock = 0;
        m->eval();
        ctx.timeInc(1);
        dump();
        m->clock = 1;
        m->eval();
        ctx.timeInc(1);
        dump();
        ++cycle;
    }
    uint64_t cycles() const override { return cycle; }
    int trace_open(const char* path, uint64_t from, uint64_t to) override {
        trace_close();
        vcd = new VerilatedVcdC;
        m->trace(vcd, 99);
        trace_from = from;
        trace_to = to;
        vcd->open(path);
        if (!vcd->isOpen()) {
            delete vcd;
            vcd = nullptr;
            return SQZ_TRACE_FAILED;
        }
        dump();
        return SQZ_OK;
    }
    void trace_close() override {
        if (vcd) {
            vcd->close();
            delete vcd;
            vcd = nullptr;
        }
    }
};
