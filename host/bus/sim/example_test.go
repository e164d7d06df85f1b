package sim_test

import (
	"fmt"

	"github.com/nichost/nichost/host/bus/sim"
	"periph.io/x/conn/v3/gpio"
)

// A simulated Ethernet segment: a frame written on one port arrives on the
// others.
func ExampleNewSegment() {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
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
func ExamplePin() {
	irq := sim.NewPin("INTn", 0)
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
