//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/simnet"
)

// The LAN driver passes the AbstractNIC conformance suite for its class on
// both simulated PHYs, with no options (what `nichost test plugins/lan
// --sim lan8720` and `--sim ksz8081` run): it finds each by its identifier.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device func(*simnet.Router) (*simnet.Device, error)
	}{
		{"lan8720", landev.Conformance},
		{"ksz8081", landev.ConformanceKSZ8081},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassLAN, Device: tc.device})
		})
	}
}
