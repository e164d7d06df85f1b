// Package resumer is the test driver (internal/testdriver) with the warm
// handover of ABI.md, for the host's tests of reloads and restarts.
package resumer

import (
	"errors"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

// Kind says how the driver behaves.
type Kind int

const (
	Good      Kind = iota // hands over and takes over
	FailStart             // nic_start fails
	Cold                  // declines every takeover; active(True) reports no link
)

// Driver is the test driver with a count of handovers.
type Driver struct {
	*testdriver.Driver
	kind      Kind
	reason    string // of the resume offer this instance started with
	handovers int64
}

var (
	_ guest.Resumer = (*Driver)(nil)
	_ guest.Caller  = (*Driver)(nil)
)

// New makes a driver of kind k.
func New(k Kind) *Driver {
	return &Driver{Driver: testdriver.New().(*testdriver.Driver), kind: k}
}

// Start implements guest.Driver.
func (d *Driver) Start(env *guest.Env) error {
	if d.kind == FailStart {
		return abi.OSError(abi.EIO, "failstart: this module never starts")
	}
	return d.Driver.Start(env)
}

// SetActive implements guest.Driver; a Cold driver reports nothing.
func (d *Driver) SetActive(iface int, up bool) error {
	if d.kind == Cold {
		return nil
	}
	return d.Driver.SetActive(iface, up)
}

// Suspend implements guest.Resumer: the state is "handovers" and the
// count.
func (d *Driver) Suspend() ([]byte, error) {
	return append([]byte("handovers"), byte(d.handovers)), nil
}

// Resume implements guest.Resumer.
func (d *Driver) Resume(r abi.Resume) error {
	if d.kind == Cold {
		return errors.New("cold: this module always starts cold")
	}
	d.reason = r.Reason
	if r.State == nil {
		return nil // after a fault: the replay restores the rest
	}
	if len(r.State) != 10 || string(r.State[:9]) != "handovers" {
		return errors.New("not this driver's state")
	}
	d.handovers = int64(r.State[9]) + 1
	return nil
}

// Call implements guest.Caller: "handover", then the test driver's calls.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	if name == "handover" {
		return abi.Tuple{d.reason, d.handovers}, nil
	}
	return d.Driver.Call(iface, name, a)
}
