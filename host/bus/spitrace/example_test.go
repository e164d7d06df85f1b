package spitrace_test

import (
	"os"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/bus/spitrace"
)

// Recording a session of a driver on an SPI conn.
func ExampleRecord() {
	dev := sim.NewSPI(echo{})
	rec := spitrace.Record(dev, os.Stdout)
	r := make([]byte, 2)
	_ = rec.Tx([]byte{0x0f, 0x00}, r)
	// Output:
	// {"format":"nichost-spi-trace","version":1,"conn":"sim.SPI","duplex":"Full"}
	// {"i":0,"op":"tx","packets":[{"w":"0f00","r":"0f00"}]}
}

// echo is an SPI device that shifts back what it receives.
type echo struct{}

func (echo) Select()              {}
func (echo) Deselect()            {}
func (echo) Transfer(w, r []byte) { copy(r, w) }
