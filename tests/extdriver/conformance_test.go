//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/simnet/devices"
)

// The driver passes nichost's AbstractNIC conformance suite for the LAN
// class on the simulated LAN8720 (what `nichost test . --sim lan8720`
// runs). The suite builds this directory to WASM and loads it into a host
// attached to a simulated LAN with a DHCP server and a web server.
func TestConformance(t *testing.T) {
	dev, ok := devices.Lookup("lan8720")
	if !ok {
		t.Fatal("nichost has no simulated device lan8720")
	}
	conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassLAN, Device: dev.Conformance})
}
