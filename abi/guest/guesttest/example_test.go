package guesttest_test

import (
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
)

// bridge is a small LAN driver: its link comes up 100 ms after
// active(True), as if a PHY negotiated, and frames move between a granted
// frame port and the network core.
type bridge struct {
	env     *guest.Env
	port    guest.FramePort
	active  bool
	link    bool
	linkDue time.Duration
	buf     []byte
}

func (d *bridge) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "bridge", Interfaces: []string{"eth"},
		Buses: []abi.BusNeed{{Name: "port", Kind: abi.BusFrame}}}
}

func (d *bridge) Start(env *guest.Env) (err error) {
	d.env, d.buf = env, make([]byte, 1514)
	d.port, err = env.FramePort("port")
	return err
}

func (d *bridge) Active(int) bool                     { return d.active }
func (d *bridge) IsConnected(int) bool                { return d.link }
func (d *bridge) Status(int, string) (any, error)     { return 0, nil }
func (d *bridge) ConfigGet(int, string) (any, error)  { return nil, abi.ValueError("no parameters") }
func (d *bridge) ConfigSet(int, map[string]any) error { return abi.ValueError("no parameters") }

func (d *bridge) SetActive(_ int, up bool) error {
	d.active = up
	if up {
		d.linkDue = d.env.Now() + 100*time.Millisecond
		d.env.WakeAfter(100 * time.Millisecond)
	}
	return nil
}

func (d *bridge) Poll(abi.Event) error {
	if d.active && !d.link && d.env.Now() >= d.linkDue {
		d.link = true
		if err := d.env.SetLink(0, true, abi.LinkEthernet, 1500); err != nil {
			return err
		}
	}
	for {
		n, err := d.port.Read(d.buf)
		if err != nil || n == 0 {
			return err
		}
		if err := d.env.Deliver(0, d.buf[:n]); err != nil {
			return err
		}
	}
}

func (d *bridge) Transmit(_ int, frame []byte) error { return d.port.Write(frame) }

// A driver under test on the fake host, with a simulated Ethernet segment
// as its frame port. In a test, New(t, ...) does what Start does and fails
// the test instead of returning an error.
func ExampleStart() {
	seg := sim.NewSegment(sim.SegmentOptions{})
	wire := seg.Attach("wire")
	h, err := guesttest.Start(&bridge{}, guesttest.Options{Buses: map[string]any{"port": seg.Attach("nic")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()

	h.Call("active", true)
	h.Advance(time.Second) // the timer poll at 100 ms brings the link up
	connected, _ := h.Call("isconnected")
	fmt.Println("link:", h.Link(0).Up, "isconnected():", connected)

	frame := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 54)...)
	wire.WriteFrame(frame) // the port's notification makes the next poll due
	h.Advance(0)
	fmt.Println("frames to the core:", len(h.Frames(0)))

	h.Transmit(frame)
	n, _ := wire.ReadFrame(make([]byte, 1514))
	fmt.Println("bytes on the wire:", n)

	_, err = h.Call("connect", "ssid")
	fmt.Println(err)
	fmt.Printf("clock: %v\n", h.Now())
	// Output:
	// link: true isconnected(): true
	// frames to the core: 1
	// bytes on the wire: 60
	// NotImplementedError: connect() is not supported by LAN
	// clock: 1s
}
