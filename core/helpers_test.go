package core_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
)

// node is a stack with NICs wired to simulated Ethernet segments, standing
// in for the host and its plugins.
type node struct {
	st *core.Stack
}

func newNode(t testing.TB, hostname string) *node {
	t.Helper()
	st := core.New(core.Options{
		Hostname: func() string { return hostname },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(st.Close)
	return &node{st: st}
}

// attach adds a NIC on seg and brings its link up.
func (nd *node) attach(t testing.TB, seg *sim.Segment, name string, mac net.HardwareAddr) *core.NIC {
	t.Helper()
	port := seg.Attach(name)
	nic, err := nd.st.AddNIC(name, mac, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	stop := bus.Forward(port, func(f []byte) { nic.DeliverFrame(f) })
	t.Cleanup(func() { stop(); port.Close() })
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	return nic
}

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, last} }

func ctxT(t testing.TB) context.Context { return wait.Context(t) }

// eventually polls cond until it holds (see package wait for the bound).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, what, cond)
}
