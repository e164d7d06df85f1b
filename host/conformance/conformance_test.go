package conformance_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/simnet"
)

// Run refuses what it cannot test before loading anything.
func TestRun(t *testing.T) {
	errNoChip := errors.New("no chip")
	for _, c := range []struct {
		name string
		cfg  conformance.Config
		want string
		is   error
	}{
		{"unknown class", conformance.Config{Class: "NOPE"}, `no suite for class "NOPE"`, nil},
		{"no device", conformance.Config{Class: abi.ClassLAN}, "no simulated device", nil},
		{"device fails", conformance.Config{Class: abi.ClassLAN, Device: func(*simnet.Router) (*simnet.Device, error) { return nil, errNoChip }},
			"simulated device", errNoChip},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, err := conformance.Run(context.Background(), c.cfg, nil)
			if err == nil || rs != nil || !strings.HasPrefix(err.Error(), "conformance: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run = %v, %v; want an error naming %q", rs, err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("Run = %v, does not wrap %v", err, c.is)
			}
		})
	}
}

func TestFailed(t *testing.T) {
	for _, c := range []struct {
		name string
		rs   []conformance.Result
		want bool
	}{
		{"none", nil, false},
		{"passed and skipped", []conformance.Result{{Name: "a"}, {Name: "b", Skipped: "why"}}, false},
		{"one failed", []conformance.Result{{Name: "a"}, {Name: "b", Err: errors.New("x")}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := conformance.Failed(c.rs); got != c.want {
				t.Fatalf("Failed = %v, want %v", got, c.want)
			}
		})
	}
}
