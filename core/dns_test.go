package core_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/dhcpserver"
	"github.com/nichost/nichost/internal/wait"
)

// The resolver's tests run on a simulated segment with two DNS servers:
// the "learnt" one on a router at 10.64.0.1 whose DHCP lease names it,
// and the "static" one at 10.64.0.53, which the client is given with
// SetDNS. Each server is a few lines on miekg/dns's codec over a node's
// own sockets, answering through an answerFunc and logging every query in
// the order it arrived.

var (
	learntAddr = netip.MustParseAddr("10.64.0.1")
	staticAddr = netip.MustParseAddr("10.64.0.53")
	spoofAddr  = netip.MustParseAddr("10.64.0.66")
)

// dnsQuery is one query a test server received.
type dnsQuery struct {
	name  string // lower-case, absolute
	qtype uint16
	tcp   bool
}

// answerFunc answers one query with the packets to send back, in order
// (none: the query is dropped).
type answerFunc func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte

// testDNS is a DNS server on a test node. One goroutine per transport
// reads the queries one at a time, so the log is in arrival order.
type testDNS struct {
	answer answerFunc

	mu  sync.Mutex
	log []dnsQuery
}

func (s *testDNS) queries() []dnsQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// count is how many queries for name (absolute) of type qtype arrived.
func (s *testDNS) count(name string, qtype uint16) int {
	n := 0
	for _, q := range s.queries() {
		if q.name == name && q.qtype == qtype {
			n++
		}
	}
	return n
}

func (s *testDNS) handle(wire []byte, from netip.AddrPort, tcp bool) [][]byte {
	q := new(dns.Msg)
	if q.Unpack(wire) != nil || len(q.Question) != 1 {
		return nil
	}
	s.mu.Lock()
	s.log = append(s.log, dnsQuery{strings.ToLower(q.Question[0].Name), q.Question[0].Qtype, tcp})
	s.mu.Unlock()
	if s.answer == nil {
		return nil
	}
	return s.answer(q, from, tcp)
}

// serveDNS runs a server answering with answer on nic at addr, port 53,
// over UDP and TCP, until the test ends.
func serveDNS(t *testing.T, nic *core.NIC, addr netip.Addr, answer answerFunc) *testDNS {
	t.Helper()
	s := &testDNS{answer: answer}
	at := netip.AddrPortFrom(addr, 53).String()
	pc, err := nic.ListenPacket("udp4", at)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := nic.Listen("tcp4", at)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		pc.SetDeadline(time.Unix(1, 0))
		pc.Close()
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, p := range s.handle(buf[:n], from.(*net.UDPAddr).AddrPort(), false) {
				pc.WriteTo(p, from)
			}
		}
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(wait.Limit))
				from := netip.MustParseAddrPort(c.RemoteAddr().String())
				for {
					var l [2]byte
					if _, err := io.ReadFull(c, l[:]); err != nil {
						return
					}
					wire := make([]byte, binary.BigEndian.Uint16(l[:]))
					if _, err := io.ReadFull(c, wire); err != nil {
						return
					}
					for _, p := range s.handle(wire, from, true) {
						c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(p))), p...))
					}
				}
			})
		}
	})
	return s
}

func pack(m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

func parseRRs(t *testing.T, records ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// zone answers like a recursive server that knows records: the records
// of the queried type for the name, following CNAMEs; NXDOMAIN for a name
// it has no record for. An owner "*.x." matches every name under x.
func zone(t *testing.T, records ...string) answerFunc {
	recs := parseRRs(t, records...)
	return func(q *dns.Msg, _ netip.AddrPort, _ bool) [][]byte {
		m := new(dns.Msg).SetReply(q)
		m.Authoritative, m.RecursionAvailable = true, true
		qq := q.Question[0]
		name, known := strings.ToLower(qq.Name), false
		for range 10 {
			next := ""
			for _, rr := range recs {
				owner := strings.ToLower(rr.Header().Name)
				if owner != name && !(strings.HasPrefix(owner, "*.") && strings.HasSuffix(name, owner[1:])) {
					continue
				}
				known = true
				if typ := rr.Header().Rrtype; typ == qq.Qtype || typ == dns.TypeCNAME {
					rr = dns.Copy(rr)
					rr.Header().Name = name
					m.Answer = append(m.Answer, rr)
					if c, ok := rr.(*dns.CNAME); ok {
						next = strings.ToLower(c.Target)
					}
				}
			}
			if next == "" {
				break
			}
			name = next
		}
		if !known {
			m.Rcode = dns.RcodeNameError
		}
		return [][]byte{pack(m)}
	}
}

// rcode answers every query with code and no records.
func rcode(code int) answerFunc {
	return func(q *dns.Msg, _ netip.AddrPort, _ bool) [][]byte {
		return [][]byte{pack(new(dns.Msg).SetRcode(q, code))}
	}
}

// Both servers know every name under dual.test, with different addresses.
var (
	staticZone = []string{"*.dual.test. 60 IN A 10.0.0.7", "*.dual.test. 60 IN AAAA fd00::7"}
	learntZone = []string{"*.dual.test. 60 IN A 10.0.0.8", "*.dual.test. 60 IN AAAA fd00::8"}
	staticBoth = []string{"10.0.0.7", "fd00::7"}
	learntBoth = []string{"10.0.0.8", "fd00::8"}
)

// dnsLAN is the segment, its two servers and the client.
type dnsLAN struct {
	seg            *sim.Segment
	st             *core.Stack // the client's
	nic            *core.NIC
	static, learnt *testDNS
}

// newDNSLAN starts the router with the learnt server, the static server
// and a client that took a lease and was given the static server. The
// learnt server also knows marker.learnt.test (see learntAsked). tap, if
// set, sees every frame the client received, after the client's stack
// took it.
func newDNSLAN(t *testing.T, static, learnt answerFunc, tap func([]byte)) *dnsLAN {
	t.Helper()
	l := &dnsLAN{seg: sim.NewSegment(sim.SegmentOptions{Seed: 1})}

	router := newNode(t, "router")
	port := l.seg.Attach("router")
	rnic, err := router.st.AddNIC("lan", mac(0xfe), core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dhcpserver.New(dhcpserver.Config{
		Addr: netip.PrefixFrom(learntAddr, 24), MAC: mac(0xfe),
		First: netip.MustParseAddr("10.64.0.100"), Last: netip.MustParseAddr("10.64.0.199"),
		Router: learntAddr, DNS: []netip.Addr{learntAddr}, Send: port.WriteFrame,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := bus.Forward(port, func(f []byte) {
		if !srv.Handle(f) {
			rnic.DeliverFrame(f)
		}
	})
	t.Cleanup(func() { stop(); port.Close() })
	rnic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := rnic.SetIPConfig(map[string]any{"addr4": "10.64.0.1/24", "autoconf6": false}); err != nil {
		t.Fatal(err)
	}
	marker := zone(t, "marker.learnt.test. 60 IN A 10.0.0.8")
	l.learnt = serveDNS(t, rnic, learntAddr, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		if strings.EqualFold(q.Question[0].Name, "marker.learnt.test.") {
			return marker(q, from, tcp)
		}
		if learnt == nil {
			return nil
		}
		return learnt(q, from, tcp)
	})

	sn := newNode(t, "static")
	snic := sn.attach(t, l.seg, "eth0", mac(0x53))
	if err := snic.SetIPConfig(map[string]any{"addr4": "10.64.0.53/24", "autoconf6": false}); err != nil {
		t.Fatal(err)
	}
	l.static = serveDNS(t, snic, staticAddr, static)

	client := newNode(t, "client")
	l.st = client.st
	cport := l.seg.Attach("client")
	l.nic, err = client.st.AddNIC("eth0", mac(0x10), core.LinkEthernet, cport.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	cnic := l.nic
	cstop := bus.Forward(cport, func(f []byte) {
		cnic.DeliverFrame(f)
		if tap != nil {
			tap(f)
		}
	})
	t.Cleanup(func() { cstop(); cport.Close() })
	cnic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := cnic.SetIPConfig(map[string]any{"dhcp4": true}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "a lease naming the learnt DNS server", func() bool { return slices.Contains(l.st.DNSServers(), learntAddr) })
	l.st.SetDNS([]netip.Addr{staticAddr})
	if got := l.st.DNSServers(); !slices.Equal(got, []netip.Addr{staticAddr, learntAddr}) {
		t.Fatalf("DNSServers = %v, want the static server, then the learnt one", got)
	}
	return l
}

// learntAsked lists the queries the learnt server received, other than
// a marker lookup made now with the learnt server alone: every query the
// client sent it before is in its log by the time the marker's are. It
// leaves the client without its static server.
func (l *dnsLAN) learntAsked(t *testing.T) []dnsQuery {
	t.Helper()
	l.st.SetDNS(nil)
	if got, err := l.st.LookupHost(wait.Context(t), "marker.learnt.test"); err != nil || !slices.Equal(got, []string{"10.0.0.8"}) {
		t.Fatalf("marker lookup = %v, %v", got, err)
	}
	var out []dnsQuery
	for _, q := range l.learnt.queries() {
		if q.name != "marker.learnt.test." {
			out = append(out, q)
		}
	}
	return out
}

// dnsError checks that err is a *net.DNSError for host and returns it.
func dnsError(t *testing.T, err error, host string) *net.DNSError {
	t.Helper()
	var de *net.DNSError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *net.DNSError", err, err)
	}
	if de.Name != host {
		t.Fatalf("DNSError.Name = %q, want %q (%v)", de.Name, host, err)
	}
	return de
}

// With a static and a learnt server, every lookup asks the static one
// for both families and returns both, the preferred one first; the
// learnt server is asked nothing.
func TestLookupHost_StaticServerAnswersBothFamilies(t *testing.T) {
	lan := newDNSLAN(t, zone(t, staticZone...), zone(t, learntZone...), nil)
	ctx := wait.Context(t)
	for i := range 50 {
		prefer, want := 4, staticBoth
		if i%2 == 1 {
			prefer, want = 6, []string{staticBoth[1], staticBoth[0]}
		}
		lan.st.SetPrefer(prefer)
		host := fmt.Sprintf("h%d.dual.test", i) // a new name each time: no cache hits
		got, err := lan.st.LookupHost(ctx, host)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("lookup %d, prefer=%d: LookupHost(%s) = %v, %v; want %v", i, prefer, host, got, err, want)
		}
		if lan.static.count(host+".", dns.TypeA) == 0 || lan.static.count(host+".", dns.TypeAAAA) == 0 {
			t.Fatalf("lookup %d: the static server did not get both queries: %v", i, lan.static.queries())
		}
	}
	if asked := lan.learntAsked(t); len(asked) != 0 {
		t.Fatalf("the learnt server was asked %v", asked)
	}
}

// A static server that does not answer costs dnsAttempts attempts of
// dnsAttemptTimeout for each family, then the learnt server answers both.
func TestLookupHost_DeadStaticServer(t *testing.T) {
	t.Run("dropping queries", func(t *testing.T) {
		t.Parallel()
		lan := newDNSLAN(t, nil, zone(t, learntZone...), nil)
		start := time.Now()
		got, err := lan.st.LookupHost(wait.Context(t), "x.dual.test")
		elapsed := time.Since(start)
		if err != nil || !slices.Equal(got, learntBoth) {
			t.Fatalf("LookupHost = %v, %v; want the learnt server's %v", got, err, learntBoth)
		}
		wait.For(t, "every attempt at the static server", func() bool { return len(lan.static.queries()) >= 2*core.DNSAttempts })
		if a, aaaa := lan.static.count("x.dual.test.", dns.TypeA), lan.static.count("x.dual.test.", dns.TypeAAAA); a != core.DNSAttempts || aaaa != core.DNSAttempts {
			t.Fatalf("the static server got %d A and %d AAAA queries, want %d each (%v)", a, aaaa, core.DNSAttempts, lan.static.queries())
		}
		if lan.learnt.count("x.dual.test.", dns.TypeA) == 0 || lan.learnt.count("x.dual.test.", dns.TypeAAAA) == 0 {
			t.Fatalf("the learnt server did not get both queries: %v", lan.learnt.queries())
		}
		if min := core.DNSAttempts * core.DNSAttemptTimeout; elapsed < min {
			t.Fatalf("fell through after %v, before %d attempts of %v", elapsed, core.DNSAttempts, core.DNSAttemptTimeout)
		}
	})
	t.Run("nothing at its address", func(t *testing.T) {
		t.Parallel()
		lan := newDNSLAN(t, nil, zone(t, learntZone...), nil)
		lan.st.SetDNS([]netip.Addr{netip.MustParseAddr("10.64.0.54")})
		got, err := lan.st.LookupHost(wait.Context(t), "y.dual.test")
		if err != nil || !slices.Equal(got, learntBoth) {
			t.Fatalf("LookupHost = %v, %v; want the learnt server's %v", got, err, learntBoth)
		}
		if lan.learnt.count("y.dual.test.", dns.TypeA) == 0 || lan.learnt.count("y.dual.test.", dns.TypeAAAA) == 0 {
			t.Fatalf("the learnt server did not get both queries: %v", lan.learnt.queries())
		}
	})
}

// When no server answers, the error is a timeout naming every server.
func TestLookupHost_EveryServerTimesOut(t *testing.T) {
	t.Parallel()
	lan := newDNSLAN(t, nil, nil, nil)
	_, err := lan.st.LookupHost(wait.Context(t), "z.dual.test")
	de := dnsError(t, err, "z.dual.test")
	if !de.IsTimeout || !de.Timeout() || de.IsNotFound || de.Server != "10.64.0.53,10.64.0.1" {
		t.Fatalf("error %v: IsTimeout %v, IsNotFound %v, Server %q", err, de.IsTimeout, de.IsNotFound, de.Server)
	}
	for _, s := range []*testDNS{lan.static, lan.learnt} {
		wait.For(t, "every attempt", func() bool { return len(s.queries()) >= 2*core.DNSAttempts })
	}
}

// NXDOMAIN from the static server is the answer: the learnt server,
// which knows the name, is not asked. So is NOERROR without records of
// either family. Both are cached for dnsNegativeTTL.
func TestLookupHost_NotFoundIsFinal(t *testing.T) {
	lan := newDNSLAN(t,
		zone(t, append(staticZone, "mx-only.test. 60 IN MX 10 mail.test.")...),
		zone(t, append(learntZone, "gone.test. 60 IN A 10.0.0.8", "mx-only.test. 60 IN A 10.0.0.8")...), nil)
	var mu sync.Mutex
	now := time.Unix(1e9, 0)
	core.SetDNSClock(lan.st, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := wait.Context(t)
	for _, c := range []struct{ host, err string }{
		{"gone.test", "no such host"},
		{"mx-only.test", "no A or AAAA records"},
	} {
		name := c.host + "."
		asked := func() int { return lan.static.count(name, dns.TypeA) + lan.static.count(name, dns.TypeAAAA) }
		lookup := func() {
			t.Helper()
			got, err := lan.st.LookupHost(ctx, c.host)
			de := dnsError(t, err, c.host)
			if got != nil || !de.IsNotFound || de.IsTimeout || de.Server != "10.64.0.53" || !strings.Contains(de.Err, c.err) {
				t.Fatalf("LookupHost(%s) = %v, %v (IsNotFound %v, Server %q); want %q from the static server", c.host, got, err, de.IsNotFound, de.Server, c.err)
			}
		}
		lookup()
		n := asked()
		if n == 0 {
			t.Fatalf("%s: the static server was not asked", c.host)
		}
		advance(core.DNSNegativeTTL - time.Second)
		lookup()
		if asked() != n {
			t.Fatalf("%s: asked again within the negative TTL", c.host)
		}
		advance(2 * time.Second)
		lookup()
		if asked() == n {
			t.Fatalf("%s: not asked again after the negative TTL", c.host)
		}
	}
	if asked := lan.learntAsked(t); len(asked) != 0 {
		t.Fatalf("the learnt server was asked %v", asked)
	}
}

// A server that answers with an error, or with a reply that cannot be
// used, is asked once per family; the next server answers.
func TestLookupHost_ServerErrorsFallThrough(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer answerFunc
	}{
		{"SERVFAIL", rcode(dns.RcodeServerFailure)},
		{"REFUSED", rcode(dns.RcodeRefused)},
		{"FORMERR", rcode(dns.RcodeFormatError)},
		{"REFUSED without the question", func(q *dns.Msg, _ netip.AddrPort, _ bool) [][]byte {
			m := new(dns.Msg).SetRcode(q, dns.RcodeRefused)
			m.Question = nil
			return [][]byte{pack(m)}
		}},
		{"malformed reply", func(q *dns.Msg, _ netip.AddrPort, _ bool) [][]byte {
			// The query's ID, a response claiming one question, and then
			// the packet ends inside it.
			return [][]byte{{byte(q.Id >> 8), byte(q.Id), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, 'w'}}
		}},
		{"lame referral", func(q *dns.Msg, _ netip.AddrPort, _ bool) [][]byte {
			m := new(dns.Msg).SetReply(q) // NOERROR, nothing, neither authoritative nor recursive
			return [][]byte{pack(m)}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lan := newDNSLAN(t, c.answer, zone(t, learntZone...), nil)
			got, err := lan.st.LookupHost(wait.Context(t), "e.dual.test")
			if err != nil || !slices.Equal(got, learntBoth) {
				t.Fatalf("LookupHost = %v, %v; want the learnt server's %v", got, err, learntBoth)
			}
			if a, aaaa := lan.static.count("e.dual.test.", dns.TypeA), lan.static.count("e.dual.test.", dns.TypeAAAA); a != 1 || aaaa != 1 {
				t.Fatalf("the static server got %d A and %d AAAA queries, want 1 each: no second attempt", a, aaaa)
			}
		})
	}
}

// A reply must come from the server, with the query's ID and question:
// forged ones are ignored and the real one is taken. (A reply from
// another address never reaches the resolver's own source check: the
// query's UDP socket is connected, so the stack drops it first. The
// subtest keeps that property from regressing; the check in the resolver
// is a second line.)
func TestLookupHost_IgnoresForgedReplies(t *testing.T) {
	forged := func(q *dns.Msg, edit func(m *dns.Msg)) []byte {
		m := new(dns.Msg).SetReply(q)
		m.RecursionAvailable = true
		m.Answer = parseRRs(t, q.Question[0].Name+" 60 IN A 6.6.6.6", q.Question[0].Name+" 60 IN AAAA fd00::666")
		edit(m)
		return pack(m)
	}
	real := zone(t, staticZone...)
	t.Run("from the server", func(t *testing.T) {
		lan := newDNSLAN(t, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
			return append([][]byte{
				forged(q, func(m *dns.Msg) { m.Id ^= 0x5a5a }),
				forged(q, func(m *dns.Msg) { m.Question[0].Name = "other.dual.test." }),
				forged(q, func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeMX }),
				forged(q, func(m *dns.Msg) { m.Response = false }),
			}, real(q, from, tcp)...)
		}, nil, nil)
		got, err := lan.st.LookupHost(wait.Context(t), "f.dual.test")
		if err != nil || !slices.Equal(got, staticBoth) {
			t.Fatalf("LookupHost = %v, %v; want %v", got, err, staticBoth)
		}
	})
	t.Run("from another address", func(t *testing.T) {
		var spoofs atomic.Int32
		tap := func(f []byte) { // an IPv4 UDP packet from the spoofer, taken by the client's stack
			if len(f) > 34 && f[12] == 0x08 && f[13] == 0 && f[14+9] == 17 && netip.AddrFrom4([4]byte(f[14+12:14+16])) == spoofAddr {
				spoofs.Add(1)
			}
		}
		var spoofer atomic.Pointer[net.PacketConn] // set once the spoofer's node is up
		ctx := wait.Context(t)
		lan := newDNSLAN(t, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
			// Before answering, the spoofer sends the client a reply
			// with the query's ID and question, and the client takes it
			// in first.
			before := spoofs.Load()
			(*spoofer.Load()).WriteTo(forged(q, func(*dns.Msg) {}), net.UDPAddrFromAddrPort(from))
			wait.Until(ctx, wait.Limit, func() bool { return spoofs.Load() > before })
			return real(q, from, tcp)
		}, nil, tap)
		sn := newNode(t, "spoofer")
		snic := sn.attach(t, lan.seg, "eth0", mac(0x66))
		if err := snic.SetIPConfig(map[string]any{"addr4": "10.64.0.66/24", "autoconf6": false}); err != nil {
			t.Fatal(err)
		}
		pc, err := snic.ListenPacket("udp4", "10.64.0.66:53")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		spoofer.Store(&pc)
		got, err := lan.st.LookupHost(ctx, "s.dual.test")
		if err != nil || !slices.Equal(got, staticBoth) {
			t.Fatalf("LookupHost = %v, %v; want %v", got, err, staticBoth)
		}
		if n := spoofs.Load(); n < 2 {
			t.Fatalf("%d spoofed replies reached the client, want one per query", n)
		}
	})
}

// CNAME chains in the answer are followed; records beside the chain are
// not taken.
func TestLookupHost_FollowsCNAMEs(t *testing.T) {
	chain := zone(t, "alias.test. 60 IN CNAME mid.test.", "mid.test. 60 IN CNAME www.test.",
		"www.test. 60 IN A 10.0.0.9", "www.test. 60 IN AAAA fd00::9")
	lan := newDNSLAN(t, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		m := new(dns.Msg)
		if err := m.Unpack(chain(q, from, tcp)[0]); err != nil {
			panic(err)
		}
		m.Answer = append(parseRRs(t, "evil.test. 60 IN A 6.6.6.6", "evil.test. 60 IN AAAA fd00::666"), m.Answer...)
		return [][]byte{pack(m)}
	}, nil, nil)
	got, err := lan.st.LookupHost(wait.Context(t), "Alias.Test")
	if want := []string{"10.0.0.9", "fd00::9"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("LookupHost = %v, %v; want %v", got, err, want)
	}
}

// A truncated UDP reply is asked again over TCP.
func TestLookupHost_TruncatedOverTCP(t *testing.T) {
	full := zone(t, "big.test. 60 IN A 10.0.1.1", "big.test. 60 IN A 10.0.1.2", "big.test. 60 IN A 10.0.1.3", "big.test. 60 IN AAAA fd00::1:1")
	lan := newDNSLAN(t, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		if !tcp {
			m := new(dns.Msg).SetReply(q)
			m.Truncated = true
			return [][]byte{pack(m)}
		}
		return full(q, from, tcp)
	}, nil, nil)
	got, err := lan.st.LookupHost(wait.Context(t), "big.test")
	if want := []string{"10.0.1.1", "10.0.1.2", "10.0.1.3", "fd00::1:1"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("LookupHost = %v, %v; want %v", got, err, want)
	}
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if !slices.Contains(lan.static.queries(), dnsQuery{"big.test.", typ, true}) {
			t.Fatalf("no %s query over TCP: %v", dns.TypeToString[typ], lan.static.queries())
		}
	}
}

// Answers are cached for their smallest TTL, clamped to dnsMinTTL ..
// dnsMaxTTL; SetDNS empties the cache.
func TestLookupHost_CacheHonoursTTL(t *testing.T) {
	lan := newDNSLAN(t, zone(t,
		"ttl30.test. 30 IN A 10.0.2.1", "ttl30.test. 90 IN AAAA fd00::2:1",
		"ttl0.test. 0 IN A 10.0.2.2",
		"ttlday.test. 86400 IN A 10.0.2.3", "ttlday.test. 86400 IN AAAA fd00::2:3",
	), nil, nil)
	var mu sync.Mutex
	now := time.Unix(1e9, 0)
	core.SetDNSClock(lan.st, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := wait.Context(t)
	asked := func(host string) int {
		return len(slices.DeleteFunc(lan.static.queries(), func(q dnsQuery) bool { return q.name != host+"." }))
	}
	lookup := func(host string) {
		t.Helper()
		if _, err := lan.st.LookupHost(ctx, host); err != nil {
			t.Fatalf("LookupHost(%s): %v", host, err)
		}
	}
	for _, c := range []struct {
		host string
		ttl  time.Duration
	}{
		{"ttl30.test", 30 * time.Second}, // the smaller of the two families' TTLs
		{"ttl0.test", core.DNSMinTTL},    // raised to the minimum; AAAA has no records
		{"ttlday.test", core.DNSMaxTTL},  // cut to the maximum
	} {
		lookup(c.host)
		n := asked(c.host)
		if n != 2 {
			t.Fatalf("%s: %d queries, want A and AAAA", c.host, n)
		}
		advance(c.ttl - time.Second)
		lookup(c.host)
		if asked(c.host) != n {
			t.Fatalf("%s: asked again before %v", c.host, c.ttl)
		}
		advance(2 * time.Second)
		lookup(c.host)
		if asked(c.host) == n {
			t.Fatalf("%s: not asked again after %v", c.host, c.ttl)
		}
	}
	n := asked("ttlday.test")
	lookup("ttlday.test")
	if asked("ttlday.test") != n {
		t.Fatal("ttlday.test not cached")
	}
	lan.st.SetDNS([]netip.Addr{staticAddr})
	lookup("ttlday.test")
	if asked("ttlday.test") == n {
		t.Fatal("SetDNS did not empty the cache")
	}
}

// If every server fails but one gave one family, that family is returned,
// and not cached.
func TestLookupHost_PartialAnswer(t *testing.T) {
	t.Parallel()
	staticA := zone(t, staticZone...)
	lan := newDNSLAN(t, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		if q.Question[0].Qtype == dns.TypeAAAA {
			return nil // a forwarder that drops AAAA queries
		}
		return staticA(q, from, tcp)
	}, func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		return rcode(dns.RcodeServerFailure)(q, from, tcp)
	}, nil)
	ctx := wait.Context(t)
	for range 2 {
		got, err := lan.st.LookupHost(ctx, "p.dual.test")
		if err != nil || !slices.Equal(got, []string{"10.0.0.7"}) {
			t.Fatalf("LookupHost = %v, %v; want the static server's A record", got, err)
		}
	}
	if n := lan.static.count("p.dual.test.", dns.TypeA); n != 2 {
		t.Fatalf("the static server got %d A queries for 2 lookups: a partial answer was cached", n)
	}
}

// A lookup ends when its context does, with the context's error.
func TestLookupHost_ContextEnds(t *testing.T) {
	t.Parallel()
	lan := newDNSLAN(t, nil, nil, nil)
	ctx, cancel := context.WithCancel(wait.Context(t))
	go func() {
		wait.Until(ctx, wait.Limit, func() bool { return len(lan.static.queries()) > 0 })
		cancel()
	}()
	_, err := lan.st.LookupHost(ctx, "c.dual.test")
	if de := dnsError(t, err, "c.dual.test"); !errors.Is(err, context.Canceled) || de.IsNotFound {
		t.Fatalf("cancelled lookup: %v (IsNotFound %v), want context.Canceled", err, de.IsNotFound)
	}
	ctx, cancel = context.WithTimeout(wait.Context(t), core.DNSAttemptTimeout/4)
	defer cancel()
	_, err = lan.st.LookupHost(ctx, "d.dual.test")
	if de := dnsError(t, err, "d.dual.test"); !errors.Is(err, context.DeadlineExceeded) || !de.IsTimeout {
		t.Fatalf("lookup past its deadline: %v (IsTimeout %v), want context.DeadlineExceeded", err, de.IsTimeout)
	}
}

// Names are checked before any server is asked; without a server a
// lookup fails with ErrNoDNS; an address needs no server.
func TestLookupHost_NamesAndNoServer(t *testing.T) {
	st := newNode(t, "lonely").st
	ctx := wait.Context(t)
	if got, err := st.LookupHost(ctx, "192.0.2.7"); err != nil || !slices.Equal(got, []string{"192.0.2.7"}) {
		t.Fatalf("LookupHost(address) = %v, %v", got, err)
	}
	_, err := st.LookupHost(ctx, "x.test")
	dnsError(t, err, "x.test")
	if !errors.Is(err, core.ErrNoDNS) {
		t.Fatalf("without servers: %v, want ErrNoDNS", err)
	}
	st.SetDNS([]netip.Addr{netip.MustParseAddr("192.0.2.53")}) // unreachable: no NIC
	for host, want := range map[string]string{
		strings.Repeat("a", 64) + ".test":         "label 1 is 64 bytes long, more than 63",
		strings.Repeat("abcdefghi.", 25) + "abcd": "254 bytes long, more than 253",
		"a..test":          "label 2 is empty",
		"":                 "empty",
		"white space.test": "character ' '",
	} {
		_, err := st.LookupHost(ctx, host)
		if de := dnsError(t, err, host); !strings.Contains(de.Err, want) || !strings.Contains(de.Err, "invalid name") {
			t.Errorf("LookupHost(%q): %v, want %q", host, err, want)
		}
	}
}

// A forwarder that answers NXDOMAIN for the type it lacks: the other
// type's addresses stand (Go's resolver returns them too), and many
// addresses are kept up to the bound per family.
func TestLookupHost_NXDomainForOneType(t *testing.T) {
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("many.test. 60 IN A 10.1.0.%d", i+1))
	}
	base := zone(t, append([]string{"v4only.test. 60 IN A 10.0.0.44"}, many...)...)
	lame := func(q *dns.Msg, from netip.AddrPort, tcp bool) [][]byte {
		if q.Question[0].Qtype == dns.TypeAAAA {
			return [][]byte{pack(new(dns.Msg).SetRcode(q, dns.RcodeNameError))}
		}
		return base(q, from, tcp)
	}
	lan := newDNSLAN(t, lame, zone(t, learntZone...), nil)
	ctx := wait.Context(t)
	got, err := lan.st.LookupHost(ctx, "v4only.test")
	if err != nil || !slices.Equal(got, []string{"10.0.0.44"}) {
		t.Fatalf("LookupHost(v4only.test) = %v, %v; want the A record despite NXDOMAIN for AAAA", got, err)
	}
	got, err = lan.st.LookupHost(ctx, "many.test")
	if err != nil || len(got) != core.DNSMaxAddrs {
		t.Fatalf("LookupHost(many.test) = %d addresses, %v; want the first %d", len(got), err, core.DNSMaxAddrs)
	}
}
