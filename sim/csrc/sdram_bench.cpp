// The SDRAM controller bench's C side: one Verilated `sdram_ctrl` clocked a cycle at a time.
// Included once per model by the factory build/sdram.rs writes, with SDR_MODEL (the class)
// and SDR_FN (the function name prefix) defined. The structs match `src/sdram/bench.rs`.
#include <cstdint>
#include "verilated.h"

#ifndef SDR_BENCH_STRUCTS
#define SDR_BENCH_STRUCTS
struct SdrIn {
    uint32_t reset, req_valid, req_write, req_addr, req_bursts, wr_valid, wr_data, rd_ready, dq_in;
};
struct SdrOut {
    uint32_t req_ready, wr_ready, rd_valid, rd_data, cke, cs_n, ras_n, cas_n, we_n, ba, a, dqm,
        dq_out, dq_oe;
};
#endif

namespace {
struct SDR_FN(bench) {
    VerilatedContext ctx;
    SDR_MODEL* m;
    SDR_FN(bench)() : m(new SDR_MODEL(&ctx, "")) {
        m->clock = 0;
        m->reset = 1;
        m->eval();
    }
    ~SDR_FN(bench)() {
        m->final();
        delete m;
    }
};
}  // namespace

extern "C" {
void* SDR_FN(new)() { return new SDR_FN(bench)(); }
void SDR_FN(free)(void* p) { delete static_cast<SDR_FN(bench)*>(p); }
// Apply `in`, report the outputs of the cycle in `out`, then clock one rising edge.
void SDR_FN(cycle)(void* p, const SdrIn* in, SdrOut* out) {
    auto* m = static_cast<SDR_FN(bench)*>(p)->m;
    m->reset = in->reset;
    m->req_valid = in->req_valid;
    m->req_write = in->req_write;
    m->req_addr = in->req_addr;
    m->req_bursts = in->req_bursts;
    m->wr_valid = in->wr_valid;
    m->wr_data = in->wr_data;
    m->rd_ready = in->rd_ready;
    m->sd_dq_in = in->dq_in;
    m->eval();
    out->req_ready = m->req_ready;
    out->wr_ready = m->wr_ready;
    out->rd_valid = m->rd_valid;
    out->rd_data = m->rd_data;
    out->cke = m->sd_cke;
    out->cs_n = m->sd_cs_n;
    out->ras_n = m->sd_ras_n;
    out->cas_n = m->sd_cas_n;
    out->we_n = m->sd_we_n;
    out->ba = m->sd_ba;
    out->a = m->sd_a;
    out->dqm = m->sd_dqm;
    out->dq_out = m->sd_dq_out;
    out->dq_oe = m->sd_dq_oe;
    m->clock = 1;
    m->eval();
    m->clock = 0;
    m->eval();
}
}
