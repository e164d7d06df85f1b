package w5500

import (
	"log/slog"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// FuzzSPI: any sequence of SPI frames (each one chip-select assertion),
// as a driver that is broken or hostile might send, leaves the simulator
// standing: nothing panics, a misuse is recorded as an error that says
// what it was, and a pulse on
// RSTn brings the chip back to its reset values. The input is a series
// of frames, each a length byte and that many bytes of MOSI.
func FuzzSPI(f *testing.F) {
	f.Add([]byte{4, 0x00, 0x39, control(0, false, 0), 0})                              // read VERSIONR
	f.Add([]byte{4, 0x00, 0x00, control(0, true, 0), mrRST})                           // soft reset
	f.Add([]byte{5, 0x00, 0x01, control(sreg(0), true, 0), 0x01, 0x02})                // S0_CR
	f.Add([]byte{6, 0x00, 0x00, control(0, true, 1), 0xFF, 0x00, 0x00, 3, 0, 0, 0x07}) // fixed-length write, then a short one
	f.Add([]byte{2, 0xFF, 0xFF, 1, 0xFF, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		clk := &clock{t: time.Unix(1000, 0)}
		c := New(Options{Strict: true, Logger: slog.New(slog.DiscardHandler), Now: clk.Now, RelinkDelay: relink})
		defer c.Close()
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			mosi := in[:n]
			in = in[n:]
			frameBytes(c, mosi)
			clk.Advance(time.Millisecond)
		}
		for _, err := range c.Errors() {
			if err == nil || err.Error() == "" {
				t.Fatalf("a misuse recorded without a message: %v", c.Errors())
			}
		}
		c.RST().Out(gpio.Low)
		clk.Advance(time.Millisecond)
		c.RST().Out(gpio.High)
		clk.Advance(time.Millisecond + relink)
		checkResetValues(t, c)
	})
}
