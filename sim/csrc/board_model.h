// The model-specific half of the board harness: included by the per-model file that
// build.rs generates for each Verilated `sqz_top` (`Vsqz_board_<config>`).
#pragma once
#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

#include "board.h"
#include "verilated.h"

template <class M>
class SqzBoardImpl : public SqzBoard {
    VerilatedContext ctx;
    M* m;
    int mode = SQZ_LINK_UART;
    double bit = 4.0;  // UART bit period in cycles
    std::deque<uint8_t> inq;
    std::vector<uint8_t> outq;
    SqzBoardStats st{};

    // Host-side UART transmitter (drives uart_rx): bit index in the current byte, or -1.
    int tx_bit = -1;
    uint8_t tx_byte = 0;
    double tx_next = 0;  // cycle at which the next bit starts (fractional periods accumulate)

    // Host-side UART receiver (decodes uart_tx): start edge, or -1 when idle.
    bool rx_prev = true;
    double rx_t0 = -1;
    int rx_bit = 0;
    unsigned rx_byte = 0;

    int uart_line() const {
        if (tx_bit < 0) return 1;
        if (tx_bit == 0) return 0;                   // start bit
        if (tx_bit == 9) return 1;                   // stop bit
        return (tx_byte >> (tx_bit - 1)) & 1;        // LSB first
    }

    // One clock cycle. Returns whether anything was in flight (the device is not quiet).
    bool tick() {
        bool active = false;
        bool in_taken = false, out_taken = false;
        uint8_t out_byte = 0;
        if (mode == SQZ_LINK_STREAM) {
            m->stream_in_valid = !inq.empty();
            m->stream_in_data = inq.empty() ? 0 : inq.front();
            m->stream_out_ready = 1;
            m->uart_rx = 1;
        } else {
            if (tx_bit < 0 && !inq.empty()) {
                tx_byte = inq.front();
                inq.pop_front();
                tx_bit = 0;
                tx_next = double(st.cycles) + bit;
                ++st.bytes_in;
            }
            m->uart_rx = uart_line();
            m->stream_in_valid = 0;
            m->stream_out_ready = 0;
        }
        m->clock = 0;
        m->eval();
        // What the rising edge will see (ready/valid settle before it).
        if (mode == SQZ_LINK_STREAM) {
            in_taken = m->stream_in_valid && m->stream_in_ready;
            out_taken = m->stream_out_valid;
            out_byte = m->stream_out_data;
        }
        m->clock = 1;
        m->eval();
        ++st.cycles;
        if (in_taken) {
            inq.pop_front();
            ++st.bytes_in;
        }
        if (out_taken) {
            outq.push_back(out_byte);
            ++st.bytes_out;
        }
        if (mode == SQZ_LINK_UART) {
            if (tx_bit >= 0 && double(st.cycles) >= tx_next) {
                tx_next += bit;
                if (++tx_bit == 10) tx_bit = -1;
            }
            receive_uart(m->uart_tx);
            active = tx_bit >= 0 || rx_t0 >= 0 || !m->uart_tx;
        } else {
            active = in_taken || out_taken;
        }
        if (m->led_busy) {
            ++st.busy_cycles;
            active = true;
        }
        return active || !inq.empty();
    }

    // Sample the device's transmit line in the middle of each bit, as a UART would.
    void receive_uart(bool line) {
        const double c = double(st.cycles);
        if (rx_t0 < 0) {
            if (rx_prev && !line) {
                rx_t0 = c;
                rx_bit = 0;
                rx_byte = 0;
            }
        } else if (rx_bit < 8 && c == std::floor(rx_t0 + (1.5 + rx_bit) * bit)) {
            if (line) rx_byte |= 1u << rx_bit;
            ++rx_bit;
        } else if (rx_bit == 8 && c == std::floor(rx_t0 + 9.5 * bit)) {
            if (line) {
                outq.push_back(uint8_t(rx_byte));
                ++st.bytes_out;
            } else {
                ++st.framing_errors;
            }
            rx_t0 = -1;
        }
        rx_prev = line;
    }

public:
    SqzBoardImpl() {
        m = new M(&ctx, "");
        m->clock = 0;
        m->reset = 1;
        m->uart_rx = 1;
        m->stream_select = 0;
        m->stream_in_valid = 0;
        m->stream_out_ready = 0;
        m->eval();
        for (int i = 0; i < 4; ++i) tick();
        m->reset = 0;
        tick();
    }
    ~SqzBoardImpl() override {
        m->final();
        delete m;
    }
    void set_link(int md, double bit_cycles) override {
        mode = md;
        bit = bit_cycles;
        m->stream_select = md == SQZ_LINK_STREAM;
    }
    int exchange(const uint8_t* in, size_t n, uint64_t quiet, uint64_t max_cycles) override {
        inq.insert(inq.end(), in, in + n);
        uint64_t calm = 0;
        for (uint64_t i = 0; i < max_cycles; ++i) {
            calm = tick() ? 0 : calm + 1;
            if (calm >= quiet) return 1;
        }
        return 0;
    }
    size_t take(uint8_t* out, size_t cap) override {
        size_t n = outq.size() < cap ? outq.size() : cap;
        std::copy(outq.begin(), outq.begin() + n, out);
        outq.erase(outq.begin(), outq.begin() + n);
        return n;
    }
    SqzBoardStats stats() const override { return st; }
};
