package session

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

var (
	serverAddr = netip.MustParseAddr("10.64.0.1")
	clientAddr = netip.MustParseAddr("10.64.0.2")
	dns1       = netip.MustParseAddr("10.64.0.53")
	dns2       = netip.MustParseAddr("10.64.1.53")
)

// pair is a client and a server session joined by an in-memory serial
// line, on one clock.
type pair struct {
	t              *testing.T
	now            time.Duration
	c, s           *Session
	toC, toS       []byte
	cut            bool                // the line delivers nothing
	mangle         func([]byte) []byte // what the line does to octets towards the client
	dropS          func([]byte) bool   // whether the line loses a frame the server sends
	gotC, gotS     [][]byte            // IPv4 packets each received
	eventsC        []bool
	wroteC, wroteS int // octets each wrote
}

func newPair(t *testing.T, cc, sc Config) *pair {
	p := &pair{t: t, now: time.Second}
	clock := func() time.Duration { return p.now }
	cc.Role, sc.Role = Client, Server
	if !sc.Addr4.IsValid() {
		sc.Addr4, sc.Peer4, sc.DNS = serverAddr, clientAddr, []netip.Addr{dns1, dns2}
	}
	seed := uint64(1)
	for _, c := range []*Config{&cc, &sc} {
		c.Now = clock
		c.Rand = rand.NewChaCha8([32]byte{byte(seed)}) // deterministic magic numbers and challenges
		seed++
	}
	cc.Write = func(b []byte) {
		p.wroteC += len(b)
		if !p.cut {
			p.toS = append(p.toS, b...)
		}
	}
	sc.Write = func(b []byte) {
		p.wroteS += len(b)
		if !p.cut && (p.dropS == nil || !p.dropS(b)) {
			p.toC = append(p.toC, b...)
		}
	}
	cc.IP = func(pkt []byte) { p.gotC = append(p.gotC, slices.Clone(pkt)) }
	sc.IP = func(pkt []byte) { p.gotS = append(p.gotS, slices.Clone(pkt)) }
	cc.Event = func(up bool) { p.eventsC = append(p.eventsC, up) }
	p.c, p.s = New(cc), New(sc)
	return p
}

// pump delivers what is on the line until it is quiet.
func (p *pair) pump() {
	for i := 0; len(p.toC)+len(p.toS) > 0; i++ {
		if i > 10000 {
			p.t.Fatalf("the sessions still talk after 10000 rounds: client %v, server %v", p.c.Phase(), p.s.Phase())
		}
		toC, toS := p.toC, p.toS
		p.toC, p.toS = nil, nil
		if p.mangle != nil {
			toC = p.mangle(toC)
		}
		p.c.Input(toC)
		p.s.Input(toS)
	}
}

// until runs the clock from deadline to deadline, pumping the line, until
// cond holds; it fails the test when neither session has anything left to
// wait for, or after an hour of simulated time.
func (p *pair) until(what string, cond func() bool) {
	p.t.Helper()
	start := p.now
	for p.pump(); !cond(); p.pump() {
		d, ok := earliest(p.c, p.s)
		if !ok || d-start > time.Hour {
			p.t.Fatalf("never %s: client %v (LCP %v, IPCP %v, failure %q), server %v (failure %q)",
				what, p.c.Phase(), p.c.LCPState(), p.c.IPCPState(), p.c.Failure(), p.s.Phase(), p.s.Failure())
		}
		p.now = max(p.now, d)
		p.c.Poll()
		p.s.Poll()
	}
}

func earliest(ss ...*Session) (d time.Duration, ok bool) {
	for _, s := range ss {
		if t, has := s.Deadline(); has && (!ok || t < d) {
			d, ok = t, true
		}
	}
	return d, ok
}

func (p *pair) open() {
	p.c.Open()
	p.s.Open()
}

func (p *pair) running() bool { return p.c.Running() && p.s.Running() }

func (p *pair) dead() bool { return p.c.Phase() == Dead && p.s.Phase() == Dead }

func ipPacket(n int, seq byte) []byte {
	b := make([]byte, n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	for i := 20; i < n; i++ {
		b[i] = byte(i) ^ seq
	}
	return b
}

// exchange moves an IPv4 packet each way and checks both arrive whole.
func (p *pair) exchange(n int) {
	p.t.Helper()
	p.gotC, p.gotS = nil, nil
	up, down := ipPacket(n, 1), ipPacket(n, 2)
	if err := p.c.SendIP(up); err != nil {
		p.t.Fatalf("client SendIP: %v", err)
	}
	if err := p.s.SendIP(down); err != nil {
		p.t.Fatalf("server SendIP: %v", err)
	}
	p.pump()
	if len(p.gotS) != 1 || !bytes.Equal(p.gotS[0], up) || len(p.gotC) != 1 || !bytes.Equal(p.gotC[0], down) {
		p.t.Fatalf("packets of %d octets: the server got %d (want 1, intact), the client %d", n, len(p.gotS), len(p.gotC))
	}
}

func TestConnect_NoAuth(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.open()
	p.until("running", p.running)
	ci := p.c.Info()
	if ci.Addr4 != clientAddr || ci.Peer4 != serverAddr || !slices.Equal(ci.DNS, []netip.Addr{dns1, dns2}) || ci.MTU != 1500 {
		t.Errorf("client's link: %+v; want %v, peer %v, DNS %v %v, MTU 1500", ci, clientAddr, serverAddr, dns1, dns2)
	}
	if si := p.s.Info(); si.Peer4 != clientAddr || si.Addr4 != serverAddr {
		t.Errorf("server's link: %+v", si)
	}
	if !slices.Equal(p.eventsC, []bool{true}) {
		t.Errorf("client events %v, want one up", p.eventsC)
	}
	p.exchange(1500)
	p.exchange(20)
	if err := p.c.SendIP(make([]byte, 1501)); err != ErrTooBig {
		t.Errorf("SendIP past the peer's MRU = %v, want ErrTooBig", err)
	}
	// After LCP both ends compress the address, control and protocol
	// fields: an IPv4 frame of 20 octets is flag, 21, 20 octets, FCS, flag
	// (plus escapes).
	before := p.wroteC
	if err := p.c.SendIP(ipPacket(20, 0)); err != nil {
		t.Fatal(err)
	}
	if n := p.wroteC - before; n > 1+1+20+2+1+4 {
		t.Errorf("a 20-octet packet took %d octets on the line: PFC and ACFC not in use", n)
	}
	p.pump()
}

func TestConnect_ClientWithoutDNSFromServer(t *testing.T) {
	p := newPair(t, Config{}, Config{Addr4: serverAddr, Peer4: clientAddr}) // a server with no DNS servers
	p.open()
	p.until("running", p.running)
	if dns := p.c.Info().DNS; len(dns) != 0 {
		t.Errorf("DNS %v from a server that has none", dns)
	}
}

// pppd given one ms-dns Naks both DNS options with it: the client keeps
// one server, not the same one twice.
func TestConnect_ClientDNSSameTwice(t *testing.T) {
	p := newPair(t, Config{}, Config{Addr4: serverAddr, Peer4: clientAddr, DNS: []netip.Addr{dns1, dns1}})
	p.open()
	p.until("running", p.running)
	if dns := p.c.Info().DNS; !slices.Equal(dns, []netip.Addr{dns1}) {
		t.Errorf("DNS %v, want [%v] once", dns, dns1)
	}
}

// A static address the server does not give is nakked: the client takes
// the server's.
func TestIPCP_StaticAddressNakked(t *testing.T) {
	p := newPair(t, Config{Addr4: netip.MustParseAddr("192.0.2.9")}, Config{})
	p.open()
	p.until("running", p.running)
	if a := p.c.Info().Addr4; a != clientAddr {
		t.Errorf("address %v, want the server's choice %v", a, clientAddr)
	}
	q := newPair(t, Config{Addr4: clientAddr}, Config{})
	q.open()
	q.until("running", q.running)
	if a := q.c.Info().Addr4; a != clientAddr {
		t.Errorf("static address the server agrees to: got %v", a)
	}
}

func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name              string
		client, server    Config
		ok                bool
		clientWhy, srvWhy string
	}{
		{"PAP", Config{Security: SecPAP, User: "u", Key: "k"}, Config{Security: SecPAP, User: "u", Key: "k"}, true, "", ""},
		{"PAP wrong key", Config{Security: SecPAP, User: "u", Key: "x"}, Config{Security: SecPAP, User: "u", Key: "k"}, false,
			`authentication refused by the peer (PAP): "login refused"`, `peer failed authentication (PAP, user "u")`},
		{"CHAP", Config{Security: SecCHAP, User: "u", Key: "k"}, Config{Security: SecCHAP, User: "u", Key: "k", Name: "nas"}, true, "", ""},
		{"CHAP wrong key", Config{Security: SecCHAP, User: "u", Key: "x"}, Config{Security: SecCHAP, User: "u", Key: "k"}, false,
			`authentication refused by the peer (CHAP): "login refused"`, `peer failed authentication (CHAP, name "u")`},
		{"client without credentials", Config{}, Config{Security: SecPAP, User: "u", Key: "k"}, false,
			"peer terminated", "the peer refused to authenticate (it rejected PAP)"},
		{"client offers PAP, server insists on CHAP", Config{Security: SecPAP, User: "u", Key: "k"}, Config{Security: SecCHAP, User: "u", Key: "k"}, false,
			"peer terminated", "the peer refused to authenticate (it rejected CHAP)"},
		{"client asks nothing of a server that needs nothing", Config{Security: SecCHAP, User: "u", Key: "k"}, Config{}, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, tc.client, tc.server)
			p.open()
			if tc.ok {
				p.until("running", p.running)
				p.exchange(100)
				return
			}
			p.until("dead", p.dead)
			if p.c.Failure() != tc.clientWhy || p.s.Failure() != tc.srvWhy {
				t.Errorf("failures: client %q, server %q; want %q, %q", p.c.Failure(), p.s.Failure(), tc.clientWhy, tc.srvWhy)
			}
			if p.c.Running() || len(p.eventsC) != 0 {
				t.Errorf("a link that failed authentication ran: events %v", p.eventsC)
			}
		})
	}
}

// A CHAP server may challenge again in the network phase (RFC 1994 2):
// the client answers and the link keeps running; a wrong answer ends it.
func TestCHAP_Rechallenge(t *testing.T) {
	p := newPair(t, Config{Security: SecCHAP, User: "u", Key: "k"}, Config{Security: SecCHAP, User: "u", Key: "k"})
	p.open()
	p.until("running", p.running)
	for i := 0; i < 3; i++ {
		p.s.Rechallenge()
		p.pump()
		if !p.running() {
			t.Fatalf("re-challenge %d: the link stopped (client %q, server %q)", i, p.c.Failure(), p.s.Failure())
		}
	}
	p.exchange(500)
	p.c.cfg.Key = "changed"
	p.s.Rechallenge()
	p.until("dead", p.dead)
	if !strings.HasPrefix(p.c.Failure(), "authentication refused by the peer (CHAP)") {
		t.Errorf("client failure %q after a failed re-challenge", p.c.Failure())
	}
	if !slices.Equal(p.eventsC, []bool{true, false}) {
		t.Errorf("client events %v, want up then down", p.eventsC)
	}
}

// Authentication survives the loss of its replies: a lost PAP Ack or
// CHAP Success is sent again when the client retransmits.
func TestAuth_LostReplies(t *testing.T) {
	for _, sec := range []Security{SecPAP, SecCHAP} {
		t.Run(sec.String(), func(t *testing.T) {
			cred := Config{Security: sec, User: "u", Key: "k"}
			p := newPair(t, cred, cred)
			lost := 0
			p.dropS = func(f []byte) bool {
				proto, code := frameProtoCode(f)
				if lost < 2 && (proto == hdlc.ProtoPAP && code == papAck || proto == hdlc.ProtoCHAP && code == chapSuccess) {
					lost++
					return true
				}
				return false
			}
			p.open()
			p.until("running", p.running)
			if lost != 2 {
				t.Errorf("%d replies lost, want 2", lost)
			}
		})
	}
}

// frameProtoCode decodes one frame's protocol and first octet.
func frameProtoCode(f []byte) (proto uint16, code byte) {
	hdlc.NewDecoder(hdlc.Receive{}).Write(f, func(p uint16, info []byte) {
		if len(info) > 0 {
			proto, code = p, info[0]
		}
	})
	return proto, code
}

// Configure-Nak variants on LCP: an MRU too small for the peer, an MRU the
// client must live with, a peer that Rejects every option.
func TestLCP_NakAndReject(t *testing.T) {
	t.Run("MRU below 128 nakked to 128", func(t *testing.T) {
		p := newPair(t, Config{MRU: 64}, Config{})
		p.open()
		p.until("running", p.running)
		if got := p.s.Info().MTU; got != 128 {
			t.Errorf("server's MTU towards a client that asked MRU 64: %d, want 128 (nakked up)", got)
		}
		p.exchange(128)
	})
	t.Run("server's small MRU", func(t *testing.T) {
		p := newPair(t, Config{}, Config{MRU: 296})
		p.open()
		p.until("running", p.running)
		if got := p.c.Info().MTU; got != 296 {
			t.Errorf("client MTU %d, want the server's MRU 296", got)
		}
		if err := p.c.SendIP(ipPacket(297, 0)); err != ErrTooBig {
			t.Errorf("SendIP(297 octets) = %v, want ErrTooBig", err)
		}
		p.exchange(296)
	})
	t.Run("peer rejecting every option", func(t *testing.T) {
		var out [][]byte
		s := New(Config{MRU: 1000, ACCM: 0xa0000, Now: func() time.Duration { return time.Second }, Write: func(b []byte) { out = append(out, slices.Clone(b)) }})
		s.Open()
		for i := 0; i < 10 && s.LCPState() == fsm.ReqSent; i++ {
			req := lastLCP(t, out)
			if req[0] != fsm.ConfReq {
				t.Fatalf("sent code %d, want a Configure-Request", req[0])
			}
			if len(req) == fsm.HeaderLen {
				break
			}
			rej := slices.Clone(req)
			rej[0] = fsm.ConfRej
			s.Input(hdlc.Append(nil, hdlc.ProtoLCP, rej, hdlc.DefaultSend))
		}
		if req := lastLCP(t, out); len(req) != fsm.HeaderLen {
			t.Errorf("after rejects of every option the request still carries %x", req[fsm.HeaderLen:])
		}
	})
}

// lastLCP decodes the last LCP packet among frames.
func lastLCP(t *testing.T, frames [][]byte) []byte {
	t.Helper()
	var pkt []byte
	d := hdlc.NewDecoder(hdlc.DefaultReceive)
	for _, f := range frames {
		d.Write(f, func(proto uint16, info []byte) {
			if proto == hdlc.ProtoLCP {
				pkt = slices.Clone(info)
			}
		})
	}
	if pkt == nil {
		t.Fatal("no LCP packet sent")
	}
	return pkt
}

// A line whose modem inserts XON and XOFF: the client asks the server to
// escape them, and removes the ones the line adds.
func TestACCM_LineInsertsXONXOFF(t *testing.T) {
	p := newPair(t, Config{ACCM: 1<<0x11 | 1<<0x13}, Config{})
	p.mangle = func(b []byte) []byte {
		out := make([]byte, 0, len(b)*2)
		for i, c := range b {
			out = append(out, c)
			if i%7 == 0 {
				out = append(out, 0x11, 0x13)
			}
		}
		return out
	}
	p.open()
	p.until("running", p.running)
	for i := 0; i < 20; i++ {
		pkt := ipPacket(300, byte(i))
		pkt[100], pkt[101] = 0x11, 0x13 // the packet's own XON and XOFF must survive
		p.gotC = nil
		if err := p.s.SendIP(pkt); err != nil {
			t.Fatal(err)
		}
		p.pump()
		if len(p.gotC) != 1 || !bytes.Equal(p.gotC[0], pkt) {
			t.Fatalf("packet %d through a line inserting XON/XOFF: got %d packets, intact %v", i, len(p.gotC), len(p.gotC) == 1 && bytes.Equal(p.gotC[0], pkt))
		}
	}
	if st := p.c.Stats().Line; st.BadFCS != 0 {
		t.Errorf("%d frames failed their FCS: the inserted characters were not removed", st.BadFCS)
	}
}

// Echo keep-alive: a peer that stops answering is detected after
// EchoFailures requests, the link goes down, and the reason says why.
func TestEcho_LinkLoss(t *testing.T) {
	p := newPair(t, Config{EchoInterval: 5 * time.Second, EchoFailures: 3}, Config{})
	p.open()
	p.until("running", p.running)
	// A live peer answers: a minute of echoes keeps the link.
	end := p.now + time.Minute
	p.until("a minute passed", func() bool { return p.now >= end })
	if !p.running() || p.c.Stats().EchoSent < 10 || p.c.Stats().EchoMissed != 0 {
		t.Fatalf("a minute with a live peer: running %v, %+v", p.running(), p.c.Stats())
	}
	p.cut = true
	cutAt := p.now
	p.until("client dead", func() bool { return p.c.Phase() == Dead })
	if want := "peer not answering: no reply to 3 LCP Echo-Requests"; p.c.Failure() != want {
		t.Errorf("failure %q, want %q", p.c.Failure(), want)
	}
	if !slices.Equal(p.eventsC, []bool{true, false}) {
		t.Errorf("events %v, want up then down", p.eventsC)
	}
	// Detected within the echoes' time plus LCP's terminate timeouts.
	if took := p.now - cutAt; took > 4*5*time.Second+3*fsm.DefaultRestart {
		t.Errorf("link loss took %v of simulated time to detect", took)
	}
}

// Close terminates: the peer acknowledges, both ends are dead, and only
// the peer has a failure to report ("peer terminated").
func TestClose(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.open()
	p.until("running", p.running)
	p.c.Close()
	if p.c.Phase() != Terminate {
		t.Errorf("phase right after Close: %v, want terminate", p.c.Phase())
	}
	p.until("dead", p.dead)
	if p.c.Failure() != "" || p.s.Failure() != "peer terminated" {
		t.Errorf("failures after a close: client %q, server %q", p.c.Failure(), p.s.Failure())
	}
	if err := p.c.SendIP(ipPacket(20, 0)); err != ErrNotRunning {
		t.Errorf("SendIP after Close = %v, want ErrNotRunning", err)
	}
	// The client dials again on the same line.
	p.open()
	p.until("running again", p.running)
	p.exchange(64)
}

// A looped-back line (a modem in command mode echoing): the client sees
// its own magic number and gives up with a reason.
func TestLoopBack(t *testing.T) {
	now := time.Second
	var s *Session
	var line []byte
	s = New(Config{Role: Client, Now: func() time.Duration { return now }, Rand: rand.NewChaCha8([32]byte{3}),
		Write: func(b []byte) { line = append(line, b...) }})
	s.Open()
	for i := 0; i < 100 && s.Phase() != Dead; i++ {
		b := line
		line = nil
		s.Input(b)
		if len(line) == 0 {
			now += fsm.DefaultRestart
			s.Poll()
		}
	}
	if !strings.HasPrefix(s.Failure(), "loop-back detected") {
		t.Errorf("on a looped line: phase %v, failure %q; want dead, loop-back detected", s.Phase(), s.Failure())
	}
}

// A protocol the session does not carry (IPV6CP here) is
// Protocol-Rejected, and the link keeps running.
func TestProtocolReject(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.open()
	p.until("running", p.running)
	ipv6cp := []byte{fsm.ConfReq, 1, 0, 14, 1, 10, 1, 2, 3, 4, 5, 6, 7, 8}
	var sent []byte
	write := p.c.cfg.Write
	p.c.cfg.Write = func(b []byte) { sent = append(sent, b...); write(b) }
	p.c.Input(hdlc.Append(nil, hdlc.ProtoIPV6CP, ipv6cp, hdlc.DefaultSend))
	var rej []byte
	hdlc.NewDecoder(hdlc.Receive{}).Write(sent, func(proto uint16, info []byte) {
		if proto == hdlc.ProtoLCP {
			rej = slices.Clone(info)
		}
	})
	if len(rej) < 6 || rej[0] != fsm.ProtoRej || binary.BigEndian.Uint16(rej[4:]) != hdlc.ProtoIPV6CP || !bytes.Equal(rej[6:], ipv6cp) {
		t.Fatalf("answer to IPV6CP: %x, want an LCP Protocol-Reject of 8057 carrying the packet", rej)
	}
	if p.c.Stats().ProtoRej != 1 {
		t.Errorf("ProtoRej count %d", p.c.Stats().ProtoRej)
	}
	p.pump()
	if !p.running() {
		t.Fatal("a Protocol-Reject took the link down")
	}
	p.exchange(100)
}

// A peer that never answers: LCP gives up after Max-Configure requests
// with "peer not answering".
func TestPeerNotAnswering(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.cut = true
	p.c.Open()
	p.until("dead", func() bool { return p.c.Phase() == Dead })
	if p.c.Failure() != "peer not answering" {
		t.Errorf("failure %q", p.c.Failure())
	}
}

// On a line that corrupts and drops octets, frames that fail their FCS
// are dropped and counted, negotiation gets through by retransmission,
// and no packet arrives damaged.
func TestNoisyLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	p := newPair(t, Config{EchoInterval: 10 * time.Second, EchoFailures: 5}, Config{})
	p.mangle = func(b []byte) []byte {
		out := make([]byte, 0, len(b))
		for _, c := range b {
			switch r := rng.IntN(20000); {
			case r == 0: // lost
			case r == 1:
				out = append(out, c^byte(1+rng.IntN(255)))
			default:
				out = append(out, c)
			}
		}
		return out
	}
	p.open()
	p.until("running", p.running)
	sent := map[string]bool{}
	for i := 0; i < 400; i++ {
		pkt := ipPacket(200+i, byte(i))
		sent[string(pkt)] = true
		if err := p.s.SendIP(pkt); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		p.pump()
	}
	for _, got := range p.gotC {
		if !sent[string(got)] {
			t.Fatalf("a damaged packet of %d octets was delivered", len(got))
		}
	}
	st := p.c.Stats().Line
	if st.BadFCS == 0 || len(p.gotC) < 360 {
		t.Errorf("delivered %d of 400, %d bad FCS dropped; want most delivered and some dropped", len(p.gotC), st.BadFCS)
	}
	t.Logf("delivered %d of 400; line %+v", len(p.gotC), st)
}
