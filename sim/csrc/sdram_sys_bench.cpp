// The SDRAM system bench's C side: one Verilated `sqz_sdram` (bus mux, DMA, controller)
// clocked a cycle at a time. Included once by the factory build/sdram.rs writes, with
// SDR_MODEL (the class) and SDR_FN (the function name prefix) defined. The structs match
// `src/sdram/sys_bench.rs`.
#include <cstdint>
#include "verilated.h"

struct SysIn {
    uint64_t reset, l_addr, l_wdata, l_write, l_read, l_start, c_rdata, c_rvalid, c_busy, dq_in;
};
struct SysOut {
    uint64_t l_rdata, l_rvalid, c_addr, c_wdata, c_write, c_read, c_start, dma_busy, cke, cs_n,
        ras_n, cas_n, we_n, ba, a, dqm, dq_out, dq_oe;
};

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
void SDR_FN(cycle)(void* p, const SysIn* in, SysOut* out) {
    auto* m = static_cast<SDR_FN(bench)*>(p)->m;
    m->reset = in->reset;
    m->l_addr = in->l_addr;
    m->l_wdata = in->l_wdata;
    m->l_write = in->l_write;
    m->l_read = in->l_read;
    m->l_start = in->l_start;
    m->c_rdata = in->c_rdata;
    m->c_rvalid = in->c_rvalid;
    m->c_busy = in->c_busy;
    m->sd_dq_in = in->dq_in;
    m->eval();
    out->l_rdata = m->l_rdata;
    out->l_rvalid = m->l_rvalid;
    out->c_addr = m->c_addr;
    out->c_wdata = m->c_wdata;
    out->c_write = m->c_write;
    out->c_read = m->c_read;
    out->c_start = m->c_start;
    out->dma_busy = m->dma_busy;
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
