package core_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soypat/seqs/eth/dhcp"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/dhcpwire"
)

// rogueReply is what the rogue server puts in an OFFER or ACK.
type rogueReply struct {
	yi      netip.Addr
	server  netip.Addr // option 54
	mask    []byte     // option 1, raw; nil: absent
	routers []netip.Addr
	dns     []netip.Addr
	times   []uint32 // lease, T1, T2 (options 51, 58, 59); nil: absent
	nak     bool     // answer a REQUEST with a NAK instead
}

// goodReply is a sane lease of 10.77.0.50/24 from the rogue at 10.77.0.1.
func goodReply() rogueReply {
	return rogueReply{
		yi: ip("10.77.0.50"), server: ip("10.77.0.1"), mask: ip4("255.255.255.0"),
		routers: []netip.Addr{ip("10.77.0.1")}, dns: []netip.Addr{ip("10.77.0.1")}, times: []uint32{3600, 1800, 3150},
	}
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func ip4(s string) []byte { return ip(s).AsSlice() }

// rogueServer is a station on a segment that answers DHCP DISCOVERs and
// REQUESTs with OFFERs and ACKs the test crafts, for the client's xid and
// chaddr. It runs no stack.
type rogueServer struct {
	port     *sim.FramePort
	mac      net.HardwareAddr
	requests atomic.Int64 // REQUESTs seen

	mu         sync.Mutex
	offer, ack func() rogueReply
}

func newRogueServer(t *testing.T, seg *sim.Segment, offer, ack func() rogueReply) *rogueServer {
	t.Helper()
	r := &rogueServer{port: seg.Attach("rogue"), mac: mac(0xee), offer: offer, ack: ack}
	stop := bus.Forward(r.port, r.handle)
	t.Cleanup(func() { stop(); r.port.Close() })
	return r
}

// setACK changes what the rogue ACKs from now on.
func (r *rogueServer) setACK(ack func() rogueReply) {
	r.mu.Lock()
	r.ack = ack
	r.mu.Unlock()
}

func (r *rogueServer) handle(f []byte) {
	d, ok := dhcpwire.ParseUDP(f)
	if !ok || d.DstPort != dhcp.DefaultServerPort {
		return
	}
	m, err := dhcpwire.Decode(d.Payload)
	if err != nil || m.Header.OP != dhcp.OpRequest {
		return
	}
	r.mu.Lock()
	offer, ack := r.offer, r.ack
	r.mu.Unlock()
	switch m.Type {
	case dhcp.MsgDiscover:
		r.send(m, dhcp.MsgOffer, offer())
	case dhcp.MsgRequest:
		r.requests.Add(1)
		if rep := ack(); rep.nak {
			r.send(m, dhcp.MsgNak, rep)
		} else {
			r.send(m, dhcp.MsgAck, rep)
		}
	}
}

func (r *rogueServer) send(req *dhcpwire.Message, typ dhcp.MessageType, rep rogueReply) {
	hdr := dhcp.HeaderV4{OP: dhcp.OpReply, HType: 1, HLen: 6, Xid: req.Header.Xid, CHAddr: req.Header.CHAddr, YIAddr: rep.yi.As4()}
	opts := []dhcp.Option{{Num: dhcp.OptMessageType, Data: []byte{byte(typ)}}}
	if rep.server.IsValid() {
		opts = append(opts, dhcp.Option{Num: dhcp.OptServerIdentification, Data: rep.server.AsSlice()})
	}
	if rep.mask != nil {
		opts = append(opts, dhcp.Option{Num: dhcp.OptSubnetMask, Data: rep.mask})
	}
	list := func(as []netip.Addr) []byte {
		var b []byte
		for _, a := range as {
			b = append(b, a.AsSlice()...)
		}
		return b
	}
	if len(rep.routers) > 0 {
		opts = append(opts, dhcp.Option{Num: dhcp.OptRouter, Data: list(rep.routers)})
	}
	if len(rep.dns) > 0 {
		opts = append(opts, dhcp.Option{Num: dhcp.OptDNSServers, Data: list(rep.dns)})
	}
	for i, n := range []dhcp.OptNum{dhcp.OptIPAddressLeaseTime, dhcp.OptRenewTimeValue, dhcp.OptRebindingTimeValue} {
		if i < len(rep.times) {
			opts = append(opts, dhcp.Option{Num: n, Data: binary.BigEndian.AppendUint32(nil, rep.times[i])})
		}
	}
	bcast := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	r.port.WriteFrame(dhcpwire.UDPFrame([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, r.mac, ip("10.77.0.1"), bcast,
		dhcp.DefaultServerPort, dhcp.DefaultClientPort, dhcpwire.Encode(hdr, opts)))
}

// logSink keeps a stack's log records, to read what the DHCP client
// decided (lease times) and how often it said so.
type logSink struct {
	mu   sync.Mutex
	recs []logRec
}

type logRec struct {
	msg   string
	attrs map[string]slog.Value
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := logRec{msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.Resolve(); return true })
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	return nil
}

// find returns the records with message msg and the given string attrs.
func (s *logSink) find(msg string, attrs ...string) []logRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRec
next:
	for _, r := range s.recs {
		if r.msg != msg {
			continue
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if v, ok := r.attrs[attrs[i]]; !ok || v.String() != attrs[i+1] {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// loggedNode is newNode with its log kept.
func loggedNode(t *testing.T, hostname string) (*node, *logSink) {
	t.Helper()
	sink := &logSink{}
	st := core.New(core.Options{Hostname: func() string { return hostname }, Logger: slog.New(sink)})
	t.Cleanup(st.Close)
	return &node{st: st}, sink
}

// rogueClient starts a DHCP client on a segment with a rogue server.
func rogueClient(t *testing.T, offer, ack func() rogueReply) (*core.NIC, *logSink, *rogueServer) {
	t.Helper()
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r := newRogueServer(t, seg, offer, ack)
	client, sink := loggedNode(t, "c")
	nic := client.attach(t, seg, "eth0", mac(7))
	if err := nic.SetIPConfig(map[string]any{"dhcp4": true}); err != nil {
		t.Fatal(err)
	}
	return nic, sink, r
}

func dropsOf(nic *core.NIC, reason string) uint64 { return nic.Stats().Drops[reason] }

// wantConfig checks the NIC's IPv4 configuration.
func wantConfig(t *testing.T, nic *core.NIC, addr, mask, gw string, leased bool, dns ...string) {
	t.Helper()
	if got, _ := nic.IPConfig("addr4"); !reflect.DeepEqual(got, abi.Tuple{addr, mask}) {
		t.Errorf("addr4 = %v, want (%s, %s)", got, addr, mask)
	}
	if got, _ := nic.IPConfig("gw4"); got != gw {
		t.Errorf("gw4 = %v, want %s", got, gw)
	}
	if got, _ := nic.IPConfig("has_dhcp4"); got != leased {
		t.Errorf("has_dhcp4 = %v, want %v", got, leased)
	}
	var got4 []string
	for _, a := range nic.DNS() {
		if a.Is4() {
			got4 = append(got4, a.String())
		}
	}
	if !slices.Equal(got4, dns) {
		t.Errorf("DNS servers %v, want %v", got4, dns)
	}
}

// Every kind of rogue ACK is refused: counted by reason, logged once per
// exchange however often it comes, and not applied; the client keeps
// asking.
func TestDHCP_RogueACKRefused(t *testing.T) {
	tests := []struct {
		name   string
		offer  func(*rogueReply) // changes to the good OFFER
		ack    func(*rogueReply) // changes to the good ACK
		reason string
	}{
		{"mask 0.0.0.0", nil, func(r *rogueReply) { r.mask = ip4("0.0.0.0") }, "prefix shorter than /8"},
		{"mask 254.0.0.0", nil, func(r *rogueReply) { r.mask = ip4("254.0.0.0") }, "prefix shorter than /8"},
		{"mask 255.0.255.0", nil, func(r *rogueReply) { r.mask = ip4("255.0.255.0") }, "netmask not contiguous"},
		{"mask of 3 bytes", nil, func(r *rogueReply) { r.mask = []byte{255, 255, 255} }, "netmask option malformed"},
		{"address 0.0.0.0", nil, func(r *rogueReply) { r.yi = ip("0.0.0.0") }, "address in 0.0.0.0/8"},
		{"address 127.0.0.1", nil, func(r *rogueReply) { r.yi = ip("127.0.0.1") }, "loopback address"},
		{"address 224.0.0.1", nil, func(r *rogueReply) { r.yi = ip("224.0.0.1") }, "multicast address"},
		{"address 255.255.255.255", nil, func(r *rogueReply) { r.yi = ip("255.255.255.255") }, "limited broadcast address"},
		{"address 169.254.7.7", nil, func(r *rogueReply) { r.yi = ip("169.254.7.7") }, "link-local address"},
		// The OFFER has no mask, so only its ACK says the address is the
		// subnet's broadcast (network) address.
		{"subnet broadcast", func(r *rogueReply) { r.yi, r.mask = ip("10.77.0.255"), nil },
			func(r *rogueReply) { r.yi = ip("10.77.0.255") }, "the subnet's broadcast address"},
		{"subnet network", func(r *rogueReply) { r.yi, r.mask = ip("10.77.0.0"), nil },
			func(r *rogueReply) { r.yi = ip("10.77.0.0") }, "the subnet's network address"},
		{"another address than offered", nil, func(r *rogueReply) { r.yi = ip("10.77.0.51") }, "address not the one offered"},
		{"another server than offered", nil, func(r *rogueReply) { r.server = ip("10.77.0.2") }, "reply from another server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reply := func(change func(*rogueReply)) func() rogueReply {
				return func() rogueReply {
					r := goodReply()
					if change != nil {
						change(&r)
					}
					return r
				}
			}
			nic, sink, _ := rogueClient(t, reply(tt.offer), reply(tt.ack))
			key := "dhcp: refused ACK: " + tt.reason
			if strings.Contains(tt.name, "NAK") {
				key = "dhcp: refused NAK: " + tt.reason
			}
			// Two refusals: the client went on asking after the first.
			eventually(t, "two refused ACKs ("+tt.reason+")", func() bool { return dropsOf(nic, key) >= 2 })
			logged := len(sink.find("DHCP: refused a reply", "type", "ACK", "reason", tt.reason))
			if drops := dropsOf(nic, key); logged == 0 || uint64(logged) >= drops {
				t.Errorf("%d refused ACKs logged %d times, want once per exchange", drops, logged)
			}
			wantConfig(t, nic, "0.0.0.0", "0.0.0.0", "0.0.0.0", false)
			if n := len(sink.find("DHCP lease")); n != 0 {
				t.Errorf("%d leases logged", n)
			}
		})
	}
}

// An unusable OFFER is refused as well: the client sends no REQUEST for it.
func TestDHCP_RogueOfferRefused(t *testing.T) {
	bad := func() rogueReply { r := goodReply(); r.yi = ip("127.0.0.1"); return r }
	nic, _, rogue := rogueClient(t, bad, goodReply)
	key := "dhcp: refused OFFER: loopback address"
	eventually(t, "two refused OFFERs", func() bool { return dropsOf(nic, key) >= 2 })
	if n := rogue.requests.Load(); n != 0 {
		t.Errorf("%d REQUESTs for a refused OFFER", n)
	}
	wantConfig(t, nic, "0.0.0.0", "0.0.0.0", "0.0.0.0", false)
}

// A refused renewal ACK leaves the bound lease as it was.
func TestDHCP_RogueRenewalRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ack    func(*rogueReply)
		reason string
	}{
		{"mask 0.0.0.0", func(r *rogueReply) { r.mask = ip4("0.0.0.0") }, "prefix shorter than /8"},
		{"another address", func(r *rogueReply) { r.yi = ip("10.77.0.99") }, "address not the one requested"},
		{"another server", func(r *rogueReply) { r.server = ip("10.77.0.2") }, "reply from another server"},
		{"a NAK from another server", func(r *rogueReply) { r.server, r.nak = ip("10.77.0.2"), true }, "reply from another server"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// T1 of 1 s: the client renews soon after it has the lease.
			good := func() rogueReply { r := goodReply(); r.times = []uint32{3600, 1, 3000}; return r }
			nic, _, rogue := rogueClient(t, good, good)
			eventually(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
			rogue.setACK(func() rogueReply { r := good(); tt.ack(&r); return r })
			key := "dhcp: refused ACK: " + tt.reason
			if strings.Contains(tt.name, "NAK") {
				key = "dhcp: refused NAK: " + tt.reason
			}
			eventually(t, "a refused renewal ACK", func() bool { return dropsOf(nic, key) >= 1 })
			wantConfig(t, nic, "10.77.0.50", "255.255.255.0", "10.77.0.1", true, "10.77.0.1")
		})
	}
}

// What an ACK carries beside the address is trimmed, not refused: a router
// that cannot be the gateway is ignored, DNS servers are kept up to three
// usable ones, lease times are made sane.
func TestDHCP_RogueACKTrimmed(t *testing.T) {
	tests := []struct {
		name                 string
		ack                  func(*rogueReply)
		addr, mask, gw       string
		dns                  []string
		lease, renew, rebind time.Duration // 0: not checked
	}{
		{name: "router outside the subnet", ack: func(r *rogueReply) { r.routers = []netip.Addr{ip("192.0.2.1")} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "0.0.0.0", dns: []string{"10.77.0.1"}},
		{name: "routers 0.0.0.0, ours, broadcast, then a good one",
			ack: func(r *rogueReply) {
				r.routers = []netip.Addr{ip("0.0.0.0"), ip("10.77.0.50"), ip("10.77.0.255"), ip("10.77.0.254")}
			},
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.254", dns: []string{"10.77.0.1"}},
		{name: "no router usable", ack: func(r *rogueReply) { r.routers = []netip.Addr{ip("0.0.0.0"), ip("10.77.0.50")} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "0.0.0.0", dns: []string{"10.77.0.1"}},
		{name: "10 DNS servers",
			ack: func(r *rogueReply) {
				r.dns = nil
				for i := range 10 {
					r.dns = append(r.dns, netip.AddrFrom4([4]byte{10, 77, 0, byte(53 + i)}))
				}
			},
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.53", "10.77.0.54", "10.77.0.55"}},
		{name: "unusable DNS servers",
			ack: func(r *rogueReply) {
				r.dns = []netip.Addr{ip("0.0.0.0"), ip("224.0.0.251"), ip("255.255.255.255"), ip("10.77.0.255"), ip("127.0.0.53"),
					ip("10.77.0.53"), ip("10.77.0.53"), ip("169.254.169.253"), ip("9.9.9.9"), ip("8.8.8.8")}
			},
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.53", "169.254.169.253", "9.9.9.9"}},
		{name: "lease time 0", ack: func(r *rogueReply) { r.times = []uint32{0, 0, 0} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.1"},
			lease: time.Minute, renew: 30 * time.Second, rebind: 52500 * time.Millisecond},
		{name: "lease time 1 s, no T1 and T2", ack: func(r *rogueReply) { r.times = []uint32{1} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.1"},
			lease: time.Minute, renew: 30 * time.Second, rebind: 52500 * time.Millisecond},
		{name: "T1 after T2 after the lease", ack: func(r *rogueReply) { r.times = []uint32{600, 700, 650} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.1"},
			lease: 10 * time.Minute, renew: 5 * time.Minute, rebind: 525 * time.Second},
		{name: "server's own T1 and T2", ack: func(r *rogueReply) { r.times = []uint32{600, 100, 200} },
			addr: "10.77.0.50", mask: "255.255.255.0", gw: "10.77.0.1", dns: []string{"10.77.0.1"},
			lease: 10 * time.Minute, renew: 100 * time.Second, rebind: 200 * time.Second},
		{name: "/32, router outside it", ack: func(r *rogueReply) { r.mask = ip4("255.255.255.255") },
			addr: "10.77.0.50", mask: "255.255.255.255", gw: "0.0.0.0", dns: []string{"10.77.0.1"}},
		{name: "/31 with its peer as router",
			ack: func(r *rogueReply) {
				r.mask, r.routers = ip4("255.255.255.254"), []netip.Addr{ip("10.77.0.51")}
			},
			addr: "10.77.0.50", mask: "255.255.255.254", gw: "10.77.0.51", dns: []string{"10.77.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ack := func() rogueReply { r := goodReply(); tt.ack(&r); return r }
			nic, sink, _ := rogueClient(t, goodReply, ack)
			eventually(t, "a lease", func() bool { v, _ := nic.IPConfig("has_dhcp4"); return v == true })
			wantConfig(t, nic, tt.addr, tt.mask, tt.gw, true, tt.dns...)
			if tt.gw == "0.0.0.0" && len(sink.find("DHCP: ignored the router: not a host of the subnet other than us; the lease has no gateway")) == 0 {
				t.Error("the ignored router was not logged")
			}
			if tt.lease == 0 {
				return
			}
			// The times the client runs on, as it logged them with the
			// lease: T1 is when it sends its next REQUEST.
			l := sink.find("DHCP lease", "nic", "eth0")
			if len(l) != 1 {
				t.Fatalf("%d lease log lines, want 1", len(l))
			}
			for k, want := range map[string]time.Duration{"lease": tt.lease, "renew": tt.renew, "rebind": tt.rebind} {
				if got := l[0].attrs[k].Duration(); got != want {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
		})
	}
}

// One NIC's rogue ACK does not take traffic from another NIC's gateway:
// NIC A has a good lease with a gateway; NIC B's ACK with mask 0.0.0.0,
// which would have made 0.0.0.0/0 on-link on B ahead of A's default route,
// is refused, and off-link traffic still leaves through A's gateway.
func TestDHCP_RogueACKOnOtherNICKeepsRoutes(t *testing.T) {
	seg1, seg2 := sim.NewSegment(sim.SegmentOptions{Seed: 1}), sim.NewSegment(sim.SegmentOptions{Seed: 2})
	router(t, seg1, time.Hour) // 10.64.0.1/24, the gateway of its leases
	zeroMask := func() rogueReply { r := goodReply(); r.mask = ip4("0.0.0.0"); return r }
	newRogueServer(t, seg2, goodReply, zeroMask)
	client, _ := loggedNode(t, "c")
	a, b := client.attach(t, seg1, "eth0", mac(0x0a)), client.attach(t, seg2, "eth1", mac(0x0b))
	for _, n := range []*core.NIC{a, b} {
		if err := n.SetIPConfig(map[string]any{"dhcp4": true}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "A's lease", func() bool { v, _ := a.IPConfig("has_dhcp4"); return v == true })
	eventually(t, "B's refused ACK", func() bool { return dropsOf(b, "dhcp: refused ACK: prefix shorter than /8") >= 1 })
	wantConfig(t, a, "10.64.0.100", "255.255.255.0", "10.64.0.1", true, "10.64.0.1")
	wantConfig(t, b, "0.0.0.0", "0.0.0.0", "0.0.0.0", false)

	spy1, spy2 := seg1.Attach("spy1"), seg2.Attach("spy2")
	ctx, cancel := context.WithCancel(context.Background())
	pinged := make(chan struct{})
	go func() { // the router does not forward: the ping only ends with ctx
		defer close(pinged)
		client.st.Ping(ctx, ip("203.0.113.9"), 16)
	}()
	far := ip("203.0.113.9").As4()
	n1 := 0
	eventually(t, "the echo request to 203.0.113.9 sent to A's gateway on A's segment", func() bool {
		n1 += framesFor(spy1, far, mac(0xfe))
		return n1 > 0
	})
	cancel()
	<-pinged
	if n2 := framesFor(spy2, far, nil); n2 != 0 {
		t.Fatalf("%d frames for 203.0.113.9 on B's segment, want none", n2)
	}
}

// framesFor counts the frames queued at a port that carry target: IPv4
// datagrams to it, sent to the hardware address dst; with dst nil, all of
// them and ARP requests for target too.
func framesFor(p *sim.FramePort, target [4]byte, dst net.HardwareAddr) int {
	buf := make([]byte, 2048)
	n := 0
	for {
		k, _ := p.ReadFrame(buf)
		if k == 0 {
			return n
		}
		f := buf[:k]
		switch {
		case dst == nil && k >= 42 && f[12] == 0x08 && f[13] == 0x06 && [4]byte(f[38:42]) == target:
			n++
		case k >= 34 && f[12] == 0x08 && f[13] == 0x00 && [4]byte(f[30:34]) == target && (dst == nil || string(f[:6]) == string(dst)):
			n++
		}
	}
}
