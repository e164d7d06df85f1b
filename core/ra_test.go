package core_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
)

// ndpPeer is a raw port on a segment that speaks NDP by hand: it sends
// router advertisements built with gVisor's header package and, if claim
// is set, answers every duplicate address detection probe for a global
// address with an advertisement claiming it.
type ndpPeer struct {
	port *sim.FramePort
	mac  tcpip.LinkAddress
	ll   tcpip.Address // source of what it sends

	claim   bool
	claimed atomic.Int64 // probes answered
}

func newNDPPeer(t testing.TB, seg *sim.Segment, m net.HardwareAddr, claim bool) *ndpPeer {
	t.Helper()
	p := &ndpPeer{port: seg.Attach("peer"), mac: tcpip.LinkAddress(m), claim: claim}
	p.ll = header.LinkLocalAddr(p.mac)
	stop := bus.Forward(p.port, p.observe)
	t.Cleanup(func() { stop(); p.port.Close() })
	return p
}

// raRoute is a Route Information option (RFC 4191 2.3).
type raRoute struct {
	prefix netip.Prefix
	prf    header.NDPRoutePreference
}

// raPrefix is a Prefix Information option (RFC 4861 4.6.2).
type raPrefix struct {
	prefix         netip.Prefix
	onLink, autoOn bool
}

// ra is what one router advertisement carries.
type ra struct {
	lifetime time.Duration // as a default router; 0: not one
	prf      header.NDPRoutePreference
	routes   []raRoute
	prefixes []raPrefix
	rdnss    []netip.Addr // RFC 8106 recursive DNS servers
}

// sendRA sends r to the NIC with MAC dstMAC and link-local address dst.
func (p *ndpPeer) sendRA(t testing.TB, dstMAC net.HardwareAddr, dst netip.Addr, r ra) {
	t.Helper()
	opts := header.NDPOptionsSerializer{header.NDPSourceLinkLayerAddressOption(p.mac)}
	for _, rt := range r.routes {
		// Prefixes up to /64 take 8 bytes (option length 2), longer 16.
		b := make([]byte, 6, 22)
		b[0] = byte(rt.prefix.Bits())
		b[1] = byte(rt.prf) << 3
		binary.BigEndian.PutUint32(b[2:], 1800)
		a := rt.prefix.Masked().Addr().As16()
		if rt.prefix.Bits() <= 64 {
			b = append(b, a[:8]...)
		} else {
			b = append(b, a[:]...)
		}
		opts = append(opts, header.NDPRouteInformation(b))
	}
	for _, pi := range r.prefixes {
		b := make([]byte, 30)
		b[0] = byte(pi.prefix.Bits())
		if pi.onLink {
			b[1] |= 1 << 7
		}
		if pi.autoOn {
			b[1] |= 1 << 6
		}
		binary.BigEndian.PutUint32(b[2:], 3600) // valid
		binary.BigEndian.PutUint32(b[6:], 1800) // preferred
		a := pi.prefix.Masked().Addr().As16()
		copy(b[14:], a[:])
		opts = append(opts, header.NDPPrefixInformation(b))
	}
	if len(r.rdnss) > 0 {
		b := make([]byte, 6, 6+16*len(r.rdnss))
		binary.BigEndian.PutUint32(b[2:], 1800) // lifetime
		for _, a := range r.rdnss {
			a16 := a.As16()
			b = append(b, a16[:]...)
		}
		opts = append(opts, header.NDPRecursiveDNSServer(b))
	}
	body := make([]byte, header.NDPRAMinimumSize+opts.Length())
	body[0] = 64
	body[1] = byte(r.prf) << 3
	binary.BigEndian.PutUint16(body[2:], uint16(r.lifetime/time.Second))
	header.NDPOptions(body[header.NDPRAMinimumSize:]).Serialize(opts)
	if err := p.send(tcpip.LinkAddress(dstMAC), tcpip.AddrFrom16(dst.As16()), header.ICMPv6RouterAdvert, body); err != nil {
		t.Fatal(err)
	}
}

// send writes one ICMPv6 message (hop limit 255, as NDP needs).
func (p *ndpPeer) send(dstMAC tcpip.LinkAddress, dst tcpip.Address, typ header.ICMPv6Type, body []byte) error {
	const ethLen, ipLen = header.EthernetMinimumSize, header.IPv6MinimumSize
	icmpLen := header.ICMPv6HeaderSize + len(body)
	f := make([]byte, ethLen+ipLen+icmpLen)
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: p.mac, DstAddr: dstMAC, Type: header.IPv6ProtocolNumber})
	header.IPv6(f[ethLen:]).Encode(&header.IPv6Fields{
		PayloadLength: uint16(icmpLen), TransportProtocol: header.ICMPv6ProtocolNumber, HopLimit: 255, SrcAddr: p.ll, DstAddr: dst,
	})
	icmp := header.ICMPv6(f[ethLen+ipLen:])
	icmp.SetType(typ)
	copy(icmp.MessageBody(), body)
	icmp.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: icmp, Src: p.ll, Dst: dst}))
	return p.port.WriteFrame(f)
}

// observe answers a DAD probe (a neighbour solicitation from ::) for a
// global address with a neighbour advertisement to all nodes claiming it.
func (p *ndpPeer) observe(frame []byte) {
	const ethLen = header.EthernetMinimumSize
	if !p.claim || len(frame) < ethLen+header.IPv6MinimumSize+header.ICMPv6NeighborSolicitMinimumSize ||
		header.Ethernet(frame).Type() != header.IPv6ProtocolNumber {
		return
	}
	ip := header.IPv6(frame[ethLen:])
	if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.ICMPv6ProtocolNumber || ip.SourceAddress() != header.IPv6Any {
		return
	}
	icmp := header.ICMPv6(ip.Payload())
	if icmp.Type() != header.ICMPv6NeighborSolicit {
		return
	}
	target := header.NDPNeighborSolicit(icmp.MessageBody()).TargetAddress()
	if header.IsV6LinkLocalUnicastAddress(target) {
		return
	}
	opts := header.NDPOptionsSerializer{header.NDPTargetLinkLayerAddressOption(p.mac)}
	body := make([]byte, header.NDPNAMinimumSize+opts.Length())
	na := header.NDPNeighborAdvert(body)
	na.SetOverrideFlag(true)
	na.SetTargetAddress(target)
	na.Options().Serialize(opts)
	dst := header.IPv6AllNodesMulticastAddress
	if p.send(header.EthernetAddressFromMulticastIPv6Address(dst), dst, header.ICMPv6NeighborAdvert, body) == nil {
		p.claimed.Add(1)
	}
}

// linkLocal is the EUI-64 link-local address of a MAC.
func linkLocal(m net.HardwareAddr) netip.Addr {
	return netip.AddrFrom16(header.LinkLocalAddr(tcpip.LinkAddress(m)).As16())
}

// allPreferred waits until every address of the NICs is preferred.
func allPreferred(t testing.TB, nics ...*core.NIC) {
	t.Helper()
	eventually(t, "addresses preferred", func() bool {
		for _, n := range nics {
			for _, e := range addr6Of(t, n) {
				if e[1] != int64(0x30) {
					return false
				}
			}
		}
		return true
	})
}

// sendRAs sends count advertisements made by mk, at most batch ahead of
// what st has taken in, then one more like the last: once st has taken
// that one in, it has handled all before it (a NIC handles its frames in
// order). It calls each after every batch.
func sendRAs(t *testing.T, st *core.Stack, p *ndpPeer, dstMAC net.HardwareAddr, dst netip.Addr, count, batch int, mk func(i int) ra, each func()) {
	t.Helper()
	base := st.RAsReceived()
	for i := 0; i <= count; i++ {
		p.sendRA(t, dstMAC, dst, mk(min(i, count-1)))
		if (i+1)%batch == 0 || i == count {
			want := base + uint64(i+1)
			wait.For(t, fmt.Sprintf("%d router advertisements taken in", i+1), func() bool { return st.RAsReceived() >= want })
			if each != nil {
				each()
			}
		}
	}
}

// A stream of advertisements whose route preferences flip on each one
// leaves the core with the routes of one advertisement, the goroutines it
// had, and a handful of route table rebuilds; TCP over the learnt route
// still works.
func TestIPv6_RAStreamBounded(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a, b := newNode(t, "a"), newNode(t, "b")
	na, nb := a.attach(t, seg, "eth0", mac(1)), b.attach(t, seg, "eth0", mac(2))
	// The peer speaks for b as a router: b's MAC and link-local address.
	peer := newNDPPeer(t, seg, mac(2), false)
	for _, p := range []string{"2001:db8:1::2/64", "2001:db8:99::1/64"} {
		if err := nb.AddStatic6(netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
	}
	allPreferred(t, na, nb)
	ln, err := b.st.Listen("tcp", ":7000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // echo one connection
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()

	const n = 3000
	routes0, rebuilds0 := a.st.RouteCount(), a.st.RouteRebuilds()
	g0 := runtime.NumGoroutine()
	peak := g0
	sendRAs(t, a.st, peer, mac(1), linkLocal(mac(1)), n, 100, func(i int) ra {
		prf := header.HighRoutePreference
		if i%2 == 1 {
			prf = header.LowRoutePreference
		}
		return ra{
			lifetime: 30 * time.Minute, prf: prf,
			routes:   []raRoute{{netip.MustParsePrefix("2001:db8:99::/48"), prf}},
			prefixes: []raPrefix{{netip.MustParsePrefix("2001:db8:1::/64"), true, true}},
		}
	}, func() { peak = max(peak, runtime.NumGoroutine()) })
	eventually(t, "the route worker idle", a.st.RouteWorkerIdle)
	eventually(t, "goroutines back to within 10 of before", func() bool { return runtime.NumGoroutine() <= g0+10 })
	routes, learnt, rebuilds := a.st.RouteCount(), na.LearntRoutes6(), a.st.RouteRebuilds()-rebuilds0
	t.Logf("%d RAs: goroutines %d before, peak %d, %d after; routes %d before, %d after (%d learnt); %d rebuilds",
		n, g0, peak, runtime.NumGoroutine(), routes0, routes, learnt, rebuilds)
	// Learnt: the default router, 2001:db8:99::/48 and 2001:db8:1::/64.
	if learnt != 3 {
		t.Errorf("%d learnt routes, want 3", learnt)
	}
	// Those two and fe80::/64 and the default route.
	if routes != 4 {
		t.Errorf("%d routes in the table, want 4", routes)
	}
	if peak > g0+20 {
		t.Errorf("goroutines peaked at %d during the stream, %d before", peak, g0)
	}
	if rebuilds > n/100 {
		t.Errorf("%d route table rebuilds for %d advertisements", rebuilds, n)
	}

	// TCP through the learnt route (2001:db8:99::/48 via b).
	c, err := a.st.Dial(ctxT(t), "tcp", "[2001:db8:99::1]:7000")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(wait.Limit))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	c.Close()
	wg.Wait()
}

// Route information and on-link prefixes for more destinations than the
// bound: the core keeps the bound and counts what it ignores.
func TestIPv6_RouteInfoBound(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	peer := newNDPPeer(t, seg, mac(0xfe), false)
	allPreferred(t, na)
	const n = 40
	// gVisor passes on 10 of each kind (its own bounds), 20 in all.
	sendRAs(t, a.st, peer, mac(1), linkLocal(mac(1)), n, 10, func(i int) ra {
		return ra{
			prf:      header.MediumRoutePreference,
			routes:   []raRoute{{netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/48", 0x100+i)), header.MediumRoutePreference}},
			prefixes: []raPrefix{{netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/64", 0x200+i)), true, false}},
		}
	}, nil)
	eventually(t, "the route worker idle", a.st.RouteWorkerIdle)
	learnt, routes := na.LearntRoutes6(), a.st.RouteCount()
	drops := na.Stats().Drops["ndp: route table full"]
	t.Logf("%d RAs with distinct prefixes: %d learnt routes, %d in the table, %d ignored as over the bound", n, learnt, routes, drops)
	if learnt != core.MaxLearntRoutes6 {
		t.Errorf("%d learnt routes, want the bound %d", learnt, core.MaxLearntRoutes6)
	}
	if routes != core.MaxLearntRoutes6+1 { // and fe80::/64
		t.Errorf("%d routes in the table, want %d", routes, core.MaxLearntRoutes6+1)
	}
	if drops == 0 {
		t.Error("no route counted as dropped")
	}
}

// BenchmarkIPv6_DialDuringRAs dials a TCP connection through a learnt
// route, on a quiet link and while a neighbour floods router
// advertisements whose preferences flip (the flood that used to start a
// goroutine and keep a route per RA). Compare the two: the ratio is what
// the flood costs a dial.
func BenchmarkIPv6_DialDuringRAs(b *testing.B) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	na, nb := newNode(b, "a"), newNode(b, "b")
	ea, eb := na.attach(b, seg, "eth0", mac(1)), nb.attach(b, seg, "eth0", mac(2))
	peer := newNDPPeer(b, seg, mac(2), false)
	for _, p := range []string{"2001:db8:1::2/64", "2001:db8:99::1/64"} {
		if err := eb.AddStatic6(netip.MustParsePrefix(p)); err != nil {
			b.Fatal(err)
		}
	}
	allPreferred(b, ea, eb)
	ln, err := nb.st.Listen("tcp", ":7000")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	mk := func(i int) ra {
		prf := header.HighRoutePreference
		if i%2 == 1 {
			prf = header.LowRoutePreference
		}
		return ra{lifetime: 30 * time.Minute, prf: prf,
			routes:   []raRoute{{netip.MustParsePrefix("2001:db8:99::/48"), prf}},
			prefixes: []raPrefix{{netip.MustParsePrefix("2001:db8:1::/64"), true, true}}}
	}
	peer.sendRA(b, mac(1), linkLocal(mac(1)), mk(0))
	eventually(b, "the learnt routes", func() bool { return ea.LearntRoutes6() == 3 })
	dial := func(b *testing.B) {
		for b.Loop() {
			c, err := na.st.Dial(ctxT(b), "tcp", "[2001:db8:99::1]:7000")
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	}
	b.Run("quiet", dial)
	b.Run("flood", func(b *testing.B) {
		stop, done := make(chan struct{}), make(chan struct{})
		go func() { // about 1,000 RAs a second, flipping
			defer close(done)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					peer.sendRA(b, mac(1), linkLocal(mac(1)), mk(i))
				}
			}
		}()
		dial(b)
		close(stop)
		<-done
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		b.ReportMetric(float64(na.st.RouteCount()), "routes")
	})
}

// A NIC added while another goes down does not deadlock: gVisor calls the
// NDP dispatcher (which takes the stack's lock) with its own lock held
// when a disabled NIC's learnt routes are invalidated, so AddNIC must not
// hold the stack's lock across a call into gVisor.
func TestIPv6_AddNICWhileLinkBounces(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	peer := newNDPPeer(t, seg, mac(2), false)
	allPreferred(t, na)
	learn := ra{lifetime: 30 * time.Minute, prf: header.MediumRoutePreference,
		routes:   []raRoute{{netip.MustParsePrefix("2001:db8:99::/48"), header.MediumRoutePreference}},
		prefixes: []raPrefix{{netip.MustParsePrefix("2001:db8:1::/64"), true, false}}}
	stop, bounced := make(chan struct{}), make(chan int)
	go func() { // learn routes, then go down (gVisor invalidates them) and up
		n := 0
		defer func() { bounced <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			peer.sendRA(t, mac(1), linkLocal(mac(1)), learn)
			for range 100 { // let the RA be taken in, often enough
				if na.LearntRoutes6() > 0 {
					break
				}
				runtime.Gosched()
			}
			na.LinkChanged(core.LinkState{Up: false, Type: core.LinkEthernet, MTU: 1500})
			na.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
			n++
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 500 {
			n, err := a.st.AddNIC(fmt.Sprintf("x%d", i), mac(byte(10+i%200)), core.LinkEthernet, func([]byte) error { return nil })
			if err != nil {
				t.Error(err)
				return
			}
			n.Remove()
		}
	}()
	wait.For(t, "500 AddNIC and Remove while the link bounces", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	close(stop)
	t.Logf("%d link bounces meanwhile", <-bounced)
}

// DNS servers from router advertisements are held to the rule of a
// lease's: unicast and not loopback (gVisor drops an option with a
// multicast or unspecified one), not link-local (a lookup could not name
// the NIC), each once.
func TestIPv6_RDNSSChecked(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a := newNode(t, "a")
	na := a.attach(t, seg, "eth0", mac(1))
	peer := newNDPPeer(t, seg, mac(2), false)
	allPreferred(t, na)
	peer.sendRA(t, mac(1), linkLocal(mac(1)), ra{lifetime: 30 * time.Minute, rdnss: []netip.Addr{
		netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::53"), netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("2001:db8::53"),
		netip.MustParseAddr("2001:db8::54"),
	}})
	want := []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("2001:db8::54")}
	eventually(t, "the advertised DNS servers, checked", func() bool { return slices.Equal(na.DNS(), want) })
}
