package core_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

func newNodeWith(t testing.TB, o core.Options) *node {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st := core.New(o)
	t.Cleanup(st.Close)
	return &node{st: st}
}

// A frame handed to the core while its link is down is dropped, counted
// and reported with its reason.
func TestNIC_DeliverFrameWhileLinkDown(t *testing.T) {
	nd := newNode(t, "n")
	nic, err := nd.st.AddNIC("eth0", mac(1), core.LinkEthernet, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	frame := append(bytes.Clone(mac(1)), make([]byte, 50)...)
	var de *core.DropError
	if err := nic.DeliverFrame(frame); !errors.As(err, &de) || de.Reason != core.DropLinkDown {
		t.Fatalf("DeliverFrame before the link is up = %v, want a DropError %q", err, core.DropLinkDown)
	}
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	if err := nic.DeliverFrame(frame[:10]); !errors.As(err, &de) || de.Reason != core.DropRunt {
		t.Fatalf("DeliverFrame of 10 bytes = %v, want a DropError %q", err, core.DropRunt)
	}
	if got := nic.Stats().Drops; got[core.DropLinkDown] != 1 || got[core.DropRunt] != 1 {
		t.Fatalf("drops %v, want one of each", got)
	}
}

// A link that comes back within the flap window keeps the lease, the
// address and the neighbours: a frame sent during the outage is dropped
// and counted, and the next one goes out at once, without asking for the
// router's MAC address again.
func TestNIC_FlapKeepsStateAndNeighbours(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r, _ := router(t, seg, time.Hour)
	client := newNodeWith(t, core.Options{FlapWindow: time.Hour})
	nic := client.attach(t, seg, "eth0", mac(8))
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	eventually(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
	addr := nic.Addr4()

	rn, _ := r.st.NIC("lan")
	pc, err := rn.ListenPacket("udp", "10.64.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan string, 2)
	go func() {
		b := make([]byte, 64)
		for {
			n, _, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			got <- string(b[:n])
		}
	}()
	c, err := nic.Dial(ctxT(t), "udp", "10.64.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "before" {
		t.Fatalf("the router got %q", s)
	}
	arps := r.st.ARPRequestsReceived()

	nic.LinkChanged(core.LinkState{Up: false, Type: core.LinkEthernet})
	if _, err := c.Write([]byte("during")); err != nil {
		t.Fatal(err)
	}
	if d := nic.Stats().Drops[core.DropLinkDown]; d != 1 {
		t.Fatalf("%d frames counted dropped while the link was down, want the datagram's 1", d)
	}
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	if _, err := c.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "after" {
			t.Fatalf("the router got %q, want the datagram sent after the flap", s)
		}
	case <-ctxT(t).Done():
		t.Fatal("the datagram sent after the flap never arrived")
	}
	if n := r.st.ARPRequestsReceived() - arps; n != 0 {
		t.Fatalf("the client asked for the router's MAC address again (%d ARP requests): it forgot its neighbours", n)
	}
	if v, _ := nic.IPConfig("has_dhcp4"); v != true || nic.Addr4() != addr {
		t.Fatalf("after the flap: has_dhcp4 %v, addr %v; want the lease on %v kept", v, nic.Addr4(), addr)
	}
}

// A window of segments lost in both directions at once (what a driver's
// restart without the warm handover does to a stream both ways) is
// repaired without one retransmission timeout per lost segment: with
// gVisor's RACK on, each timeout resent a single segment.
func TestTCP_BurstLossBothWays(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	var blackhole atomic.Bool
	wire := func(nd *node, name string, m net.HardwareAddr, addr string) *core.NIC {
		port := seg.Attach(name)
		nic, err := nd.st.AddNIC(name, m, core.LinkEthernet, func(f []byte) error {
			if blackhole.Load() {
				return nil // lost on the wire
			}
			return port.WriteFrame(f)
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := bus.Forward(port, func(f []byte) { nic.DeliverFrame(f) })
		t.Cleanup(func() { stop(); port.Close() })
		nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
		if err := nic.SetIPConfig(map[string]any{"addr4": addr}); err != nil {
			t.Fatal(err)
		}
		return nic
	}
	a, b := newNode(t, "a"), newNode(t, "b")
	na := wire(a, "a", mac(1), "10.9.0.1/24")
	wire(b, "b", mac(2), "10.9.0.2/24")
	ln, err := b.st.Listen("tcp", "10.9.0.2:9000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); accepted <- c }()
	ca, err := na.Dial(ctxT(t), "tcp", "10.9.0.2:9000")
	if err != nil {
		t.Fatal(err)
	}
	cb := <-accepted
	if cb == nil {
		t.Fatal("no connection accepted")
	}
	const total = 16 << 20
	var moved [2]atomic.Int64
	done := make(chan error, 4)
	for i, pair := range [][2]net.Conn{{ca, cb}, {cb, ca}} {
		go func() {
			_, err := io.CopyN(pair[0], zeros{}, total)
			done <- err
		}()
		go func() {
			n, err := io.Copy(io.Discard, io.TeeReader(io.LimitReader(pair[1], total), counter{&moved[i]}))
			if err == nil && n != total {
				err = io.ErrUnexpectedEOF
			}
			done <- err
		}()
	}
	eventually(t, "both streams moving", func() bool { return moved[0].Load() > 1<<20 && moved[1].Load() > 1<<20 })
	before := a.st.TCPTimeouts() + b.st.TCPTimeouts()
	blackhole.Store(true)
	start := [2]int64{moved[0].Load(), moved[1].Load()}
	eventually(t, "a window lost each way", func() bool {
		return a.st.TCPTimeouts()+b.st.TCPTimeouts() > before+1
	})
	blackhole.Store(false)
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	timeouts := a.st.TCPTimeouts() + b.st.TCPTimeouts() - before
	t.Logf("%d retransmission timeouts; %d and %d bytes had moved before the loss", timeouts, start[0], start[1])
	if timeouts > 20 {
		t.Fatalf("%d retransmission timeouts to repair one lost window each way: the lost segments were resent one per timeout", timeouts)
	}
	ca.Close()
	cb.Close()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type counter struct{ n *atomic.Int64 }

func (c counter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }
