//go:build !wasip1

package main_test

import (
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/host/conformance/conformancetest"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
)

// The WIZNET5K driver passes the conformance suite for its class on the
// simulated W5500 (what `nichost test plugins/wiznet --sim w5500` runs).
func TestConformance(t *testing.T) {
	conformancetest.Test(t, conformance.Config{Source: ".", Class: abi.ClassWIZNET5K, Device: wdev.Conformance})
}
