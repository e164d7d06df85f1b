package conformance_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/simnet"
)

// Misuse the device records fails the check during which it appeared,
// with a MisuseError quoting it, and no other check: here the LAN driver
// on a device whose Misuse reports one made-up error from the second check
// on.
func TestRun_Misuse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the LAN plugin")
	}
	bad := errors.New("lan8720: write of 0x0000 to read-only register 1 ignored (IEEE 802.3 §22.2.4)")
	looks := 0
	dev := func(lan *simnet.Router) (*simnet.Device, error) {
		d, err := landev.Conformance(lan)
		if err != nil {
			return nil, err
		}
		d.Misuse = func() []error {
			looks++
			if looks < 2 {
				return nil
			}
			return []error{bad}
		}
		return d, nil
	}
	rs, err := conformance.Run(context.Background(), conformance.Config{Source: "../../plugins/lan", Class: abi.ClassLAN, Device: dev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		var m *conformance.MisuseError
		switch {
		case i == 1 && (!errors.As(r.Err, &m) || !errors.Is(r.Err, bad) ||
			!strings.Contains(r.Err.Error(), "the driver misused the simulated device (1 time(s)): "+bad.Error())):
			t.Errorf("check %q: %v; want the misuse", r.Name, r.Err)
		case i != 1 && r.Err != nil:
			t.Errorf("check %q: %v; want a pass (the misuse was blamed already)", r.Name, r.Err)
		}
	}
}
