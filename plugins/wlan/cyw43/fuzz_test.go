package cyw43

import (
	"log/slog"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/wlan/radio"
)

// FuzzGSPI: any sequence of gSPI transactions (each one chip-select
// assertion) into a chip whose bus is initialised, as a broken or hostile
// driver might send them, leaves the simulator standing: nothing panics,
// a misuse is recorded with a message, and a power cycle on WL_REG_ON brings back a chip whose
// bus initialises as fact sheet 1.5 says. The input is a series of
// transactions, each a length byte and that many bytes of MOSI (in the
// 32-bit big-endian mode the bus is left in: a command word first).
func FuzzGSPI(f *testing.F) {
	h := &host{mode: mode32BE}
	f.Add(append([]byte{4}, h.cmd(false, funcBus, regTestRO, 4)...))
	f.Add(append(append([]byte{12}, h.cmd(true, funcBus, regBusCtrl, 4)...), 0, 0, 0, 0, 0, 0, 0, 0))
	f.Add(append(append([]byte{8}, h.cmd(true, funcBack, 0x1000A, 1)...), 0, 0, 0, 1))
	f.Add(append(append([]byte{16}, h.cmd(true, 2, 0, 12)...), 0x0C, 0, 0xF3, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0))
	f.Add([]byte{3, 0xFF, 0xFF, 0xFF, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		clk := radio.NewManual(t0)
		c := New(Options{Strict: true, Logger: slog.New(slog.DiscardHandler), Clock: clk})
		defer c.Close()
		h := &host{t: t, c: c, spi: sim.NewSPI(c), clk: clk, credit: initialCredit}
		h.busInit(busNichost)
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			n = min(n, len(in))
			mosi := in[:n]
			in = in[n:]
			miso := make([]byte, len(mosi))
			c.Select()
			c.Transfer(mosi, miso)
			c.Deselect()
			clk.Advance(time.Millisecond)
		}
		for _, err := range c.Errors() {
			if err == nil || err.Error() == "" {
				t.Fatalf("a misuse recorded without a message: %v", c.Errors())
			}
		}
		h.power(false)
		clk.Advance(10 * time.Millisecond)
		h.busInit(busNichost) // fails the test unless the chip answers as after power-on
	})
}
