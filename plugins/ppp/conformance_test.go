//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/simnet/devices"
)

// The PPP driver passes the PPP suite (ABI.md 8.3) against the ppp
// device: the strict simulated access server on a paced serial line,
// routed onto the simulated LAN.
func TestConformance(t *testing.T) {
	m, ok := devices.Lookup("ppp")
	if !ok {
		t.Fatal("no ppp device in simnet/devices")
	}
	conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassPPP, Device: m.Conformance})
}
