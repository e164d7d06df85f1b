//go:build !wasip1

package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/lan/phy"
)

// The driver natively on nichost's fake host, with a simulated LAN8720 on
// the MDIO bus and a simulated Ethernet segment as its frame port. Time is
// the fake host's clock, shared with the PHY, so negotiation takes no real
// time: active(True) returns at once, the link comes up once the clock has
// passed the PHY's auto-negotiation, frames then move both ways, and a
// pulled cable takes the link down.
func TestActiveBringsLinkUp(t *testing.T) {
	const autoNeg = 200 * time.Millisecond
	clock := new(guesttest.Clock)
	chip := phy.New(phy.Options{Addr: phyAddr, AutoNegTime: autoNeg, Now: clock.Time})
	mdio := sim.NewMDIO()
	mdio.Attach(phyAddr, chip)
	seg := sim.NewSegment(sim.SegmentOptions{})
	wire := seg.Attach("wire")
	h := guesttest.New(t, newDriver(), guesttest.Options{
		Clock: clock,
		Buses: map[string]any{"port": seg.Attach("nic"), "mdio": mdio},
	})

	if _, err := h.Call("active", true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	if err := h.Advance(autoNeg / 2); err != nil {
		t.Fatal(err)
	}
	if st, err := h.Call("status"); err != nil || st != int64(statusLinkDown) || h.Link(0).Up {
		t.Fatalf("half-way through auto-negotiation: status() = %v, %v; link reported up %v; want 0 and down", st, err, h.Link(0).Up)
	}
	if err := h.Advance(autoNeg); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Call("isconnected"); err != nil || ok != true || !h.Link(0).Up {
		t.Fatalf("after %v: isconnected() = %v, %v; link reported up %v; want true and up", h.Now(), ok, err, h.Link(0).Up)
	}
	if st, err := h.Call("status"); err != nil || st != int64(statusActive) {
		t.Fatalf("with the link up: status() = %v, %v; want 2", st, err)
	}

	frame := append(bytes.Repeat([]byte{0xff}, 6), make([]byte, 54)...)
	if err := wire.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	if err := h.Advance(0); err != nil { // the port's notification makes a poll due
		t.Fatal(err)
	}
	if got := h.Frames(0); len(got) != 1 || !bytes.Equal(got[0], frame) {
		t.Fatalf("the core got %d frames, want the one frame sent on the wire", len(got))
	}
	if err := h.Transmit(frame); err != nil {
		t.Fatalf("transmit: %v", err)
	}
	buf := make([]byte, maxFrame)
	if n, err := wire.ReadFrame(buf); err != nil || !bytes.Equal(buf[:n], frame) {
		t.Fatalf("the wire got %d bytes (%v), want the %d-byte frame transmitted", n, err, len(frame))
	}

	chip.SetLink(false)
	if err := h.Advance(2 * linkPoll); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Call("isconnected"); err != nil || ok != false || h.Link(0).Up {
		t.Fatalf("cable out: isconnected() = %v, %v; link reported up %v; want false and down", ok, err, h.Link(0).Up)
	}
}
