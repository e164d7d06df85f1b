package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/simnet"
)

// The load check's FAIL line names the section the host's error breaks,
// found with errors.Is through the host's wrapping.
func TestLoadSection(t *testing.T) {
	wrap := func(err error) error {
		return &host.PluginError{Plugin: "dut", Op: "load", Err: fmt.Errorf("%w: details", err)}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{wrap(host.ErrABIVersion), "6. Versioning"},
		{wrap(host.ErrNotGranted), "8.5 Bus names"},
		{wrap(host.ErrUndeclaredBus), "8.5 Bus names"},
		{wrap(host.ErrClassMismatch), "3.1 Description"},
		{wrap(host.ErrBadModule), "1. Shape of a plugin"},
		{errors.New("source: no Go files"), "1. Shape of a plugin"},
	} {
		if got := loadSection(c.err); got != c.want {
			t.Errorf("loadSection(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// The gate stands in front of a device's SPI and MDIO buses, and of
// nothing else: the next access after arm waits until release, later
// ones go straight through.
func TestGate(t *testing.T) {
	mdio, spi, port := sim.NewMDIO(), sim.NewSPI(nopSPI{}), sim.NewSegment(sim.SegmentOptions{}).Attach("p")
	dev := &simnet.Device{
		Buses: map[string]config.BusGrant{
			"mdio": {Kind: "mdio", Sim: "m"}, "spi": {Kind: "spi", Sim: "s"}, "port": {Kind: "frame", Sim: "p"},
		},
		Sims: map[string]any{"m": mdio, "s": spi, "p": port, "unused": mdio},
	}
	g := &gate{}
	sims := g.wrap(dev)
	m, ok := sims["m"].(*gatedMDIO)
	if _, sok := sims["s"].(*gatedSPI); !ok || !sok || sims["p"] != port || sims["unused"] != mdio || dev.Sims["m"] != mdio {
		t.Fatalf("wrap = %#v; want SPI and MDIO gated, the rest and dev.Sims as they were", sims)
	}
	m.ReadReg(1, 0) // not armed: passes

	held, release := g.arm()
	done := make(chan struct{})
	go func() {
		m.ReadReg(1, 0)
		close(done)
	}()
	<-held
	select {
	case <-done:
		t.Fatal("the access did not wait for release")
	case <-time.After(10 * time.Millisecond): // only a chance to go wrong; the test never depends on it
	}
	release()
	<-done
	release() // a second release does nothing
	m.ReadReg(1, 0)

	_, release = g.arm()
	release() // no access came: disarmed
	m.ReadReg(1, 0)
}

type nopSPI struct{}

func (nopSPI) Select()              {}
func (nopSPI) Deselect()            {}
func (nopSPI) Transfer(w, r []byte) {}

// Misuse past a simulator's bounded list still fails the check during
// which it came: the list's length stays, its last line (the count of what
// was not kept) moves.
func TestMisuse_PastTheSimulatorsList(t *testing.T) {
	var errs []error
	e := &env{dev: &simnet.Device{Misuse: func() []error { return errs }}}
	var seen misuseSeen
	if e.misuse(&seen) != nil {
		t.Fatal("misuse reported before any")
	}
	errs = []error{errors.New("a"), errors.New("b")}
	if m := e.misuse(&seen); m == nil || len(m.(*MisuseError).Misuse) != 2 {
		t.Fatalf("first misuse = %v", m)
	}
	if e.misuse(&seen) != nil {
		t.Fatal("the same misuse reported twice")
	}
	errs = []error{errors.New("a"), errors.New("b"), errors.New("1 more errors not kept")}
	if e.misuse(&seen) == nil {
		t.Fatal("misuse past the list not reported")
	}
	errs[2] = errors.New("2 more errors not kept")
	if m := e.misuse(&seen); m == nil || m.(*MisuseError).Misuse[0].Error() != "2 more errors not kept" {
		t.Fatalf("more misuse past the list = %v", m)
	}
	if e.misuse(&seen) != nil {
		t.Fatal("reported again with nothing new")
	}
}
