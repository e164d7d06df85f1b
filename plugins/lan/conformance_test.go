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

// The LAN drivers, in Go and in C (c/), pass the AbstractNIC conformance
// suite for their class on both simulated PHYs, with no options (what
// `nichost test plugins/lan --sim lan8720` and `--sim ksz8081` run, and the
// same for plugins/lan/c): each finds the PHY by its identifier.
func TestConformance(t *testing.T) {
	for _, drv := range []struct{ name, source string }{{"go", "."}, {"c", cDriver}} {
		for _, tc := range []struct {
			name   string
			device func(*simnet.Router) (*simnet.Device, error)
		}{
			{"lan8720", landev.Conformance},
			{"ksz8081", landev.ConformanceKSZ8081},
		} {
			t.Run(drv.name+"/"+tc.name, func(t *testing.T) {
				if drv.source == cDriver {
					needClang(t)
				}
				conformancetest.Test(t, conformance.Config{Source: drv.source, Class: abi.ClassLAN, Device: tc.device})
			})
		}
	}
}
