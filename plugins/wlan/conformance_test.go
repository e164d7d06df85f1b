//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// The WLAN driver passes the conformance suite for its class on the
// simulated CYW43439 (what `nichost test plugins/wlan --sim cyw43439`
// runs).
func TestConformance(t *testing.T) {
	conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassWLAN, Device: wlandev.Conformance})
}
