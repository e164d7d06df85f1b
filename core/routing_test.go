package core_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
)

// With two NICs, traffic leaves by the most specific on-link prefix, and
// off-link traffic by the default gateway of the first NIC that has one.
func TestStack_RoutingAcrossNICs(t *testing.T) {
	seg1, seg2 := sim.NewSegment(sim.SegmentOptions{Seed: 1}), sim.NewSegment(sim.SegmentOptions{Seed: 2})
	r := newNode(t, "router")
	e0, e1 := r.attach(t, seg1, "eth0", mac(1)), r.attach(t, seg2, "eth1", mac(2))
	e0.SetIPConfig(map[string]any{"addr4": "192.0.2.1/24"})
	e1.SetIPConfig(map[string]any{"addr4": "198.51.100.1/24", "gw4": "198.51.100.254"})
	a := newNode(t, "a")
	a.attach(t, seg1, "eth0", mac(3)).SetIPConfig(map[string]any{"addr4": "192.0.2.2/24"})
	b := newNode(t, "b")
	b.attach(t, seg2, "eth0", mac(4)).SetIPConfig(map[string]any{"addr4": "198.51.100.2/24"})
	for _, dst := range []string{"192.0.2.2", "198.51.100.2"} {
		if _, err := r.st.Ping(ctxT(t), netip.MustParseAddr(dst), 16); err != nil {
			t.Fatalf("ping %s (on-link on its own NIC): %v", dst, err)
		}
	}
	// Off-link: only eth1 has a gateway, so the ARP request for it must go
	// out on seg2 and nothing on seg1.
	spy1, spy2 := seg1.Attach("spy1"), seg2.Attach("spy2")
	ctx, cancel := context.WithCancel(context.Background())
	pinged := make(chan struct{})
	go func() { // no gateway answers: the ping only ends with ctx
		defer close(pinged)
		r.st.Ping(ctx, netip.MustParseAddr("203.0.113.9"), 16)
	}()
	n2 := 0
	wait.For(t, "an ARP request for the gateway on eth1's segment", func() bool {
		n2 += arpsFor(spy2, "198.51.100.254")
		return n2 > 0
	})
	cancel()
	<-pinged
	if n1 := arpsFor(spy1, "198.51.100.254"); n1 != 0 {
		t.Fatalf("off-link traffic: %d ARP requests for the gateway on eth0's segment, %d on eth1's; want 0 and some", n1, n2)
	}
}

// arpsFor counts the ARP requests for target queued at a port (other
// traffic, such as IPv6 neighbour discovery, is ignored).
func arpsFor(p *sim.FramePort, target string) int {
	want := netip.MustParseAddr(target).As4()
	buf := make([]byte, 2048)
	n := 0
	for {
		k, _ := p.ReadFrame(buf)
		if k == 0 {
			return n
		}
		f := buf[:k]
		if k >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && [4]byte(f[38:42]) == want {
			n++
		}
	}
}
