package bus_test

import (
	"fmt"
	"os"

	"github.com/nichost/nichost/host/bus"
	"periph.io/x/conn/v3/gpio"
)

// A simulated Ethernet segment: a frame written on one port arrives on the
// others.
func ExampleNewSegment() {
	seg := bus.NewSegment(bus.SegmentOptions{Seed: 1})
	nic, peer := seg.Attach("nic"), seg.Attach("peer")
	peer.Notify(func() { fmt.Println("peer: frame ready") })

	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // broadcast
	if err := nic.WriteFrame(frame); err != nil {
		fmt.Println(err)
	}
	buf := make([]byte, peer.MTU()+14)
	n, err := peer.ReadFrame(buf)
	fmt.Println(n, err)
	n, err = peer.ReadFrame(buf)
	fmt.Println(n, err)
	// Output:
	// peer: frame ready
	// 60 <nil>
	// 0 <nil>
}

// A host goroutine watching an interrupt pin, and how it is stopped.
func ExampleSimPin() {
	irq := bus.NewSimPin("INTn", 0)
	_ = irq.In(gpio.PullUp, gpio.FallingEdge)
	wake := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for irq.WaitForEdge(-1) {
			wake <- struct{}{} // e.g. schedule the driver's poll
		}
	}()
	irq.SetLevel(gpio.Low) // the device asserts its interrupt
	<-wake
	fmt.Println("interrupt")
	irq.SetLevel(gpio.High)
	_ = irq.Halt() // unblocks WaitForEdge(-1), which returns false
	<-done
	fmt.Println("watcher stopped")
	// Output:
	// interrupt
	// watcher stopped
}

// Recording a session of a driver on an SPI conn.
func ExampleRecordSPI() {
	dev := bus.NewSimSPI(echo{})
	rec := bus.RecordSPI(dev, os.Stdout)
	r := make([]byte, 2)
	_ = rec.Tx([]byte{0x0f, 0x00}, r)
	// Output:
	// {"format":"nichost-spi-trace","version":1,"conn":"SimSPI","duplex":"Full"}
	// {"i":0,"op":"tx","packets":[{"w":"0f00","r":"0f00"}]}
}

// echo is an SPI device that shifts back what it receives.
type echo struct{}

func (echo) Select()              {}
func (echo) Deselect()            {}
func (echo) Transfer(w, r []byte) { copy(r, w) }
