//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/plugins/lan/landev"
)

// The LAN driver passes the AbstractNIC conformance suite for its class on
// the simulated PHY (what `nichost test plugins/lan --sim lan8720` runs).
func TestConformance(t *testing.T) {
	conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassLAN, Device: landev.Conformance})
}
