package fsm

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"
)

// unit is a test protocol with one option, type 1, a 16-bit unit size
// (like LCP's MRU): this end asks for want, and accepts from the peer
// anything in [min, max], nakking with the nearest bound otherwise.
// Options of any other type are rejected.
type unit struct {
	want, min, max uint16
	ask            bool // ask for the option at all (cleared by a Reject)
	stubborn       bool // ignore Naks: keep asking for want

	acked, peer uint16 // what the peer acked for us; what we acked for it
	events      []string
}

func (u *unit) AppendRequest(dst []byte) []byte {
	if !u.ask {
		return dst
	}
	return append(dst, 1, 4, byte(u.want>>8), byte(u.want))
}

func (u *unit) Acked(opts []byte) {
	if len(opts) == 4 {
		u.acked = binary.BigEndian.Uint16(opts[2:])
	}
}

func (u *unit) Nakked(opts []byte) {
	if len(opts) == 4 && opts[0] == 1 && !u.stubborn {
		u.want = binary.BigEndian.Uint16(opts[2:])
	}
}

func (u *unit) Rejected(opts []byte) {
	if len(opts) >= 1 && opts[0] == 1 {
		u.ask = false
	}
}

func (u *unit) Check(opts []byte, mustReject bool) (byte, []byte) {
	var nak, rej []byte
	for len(opts) >= 2 && int(opts[1]) >= 2 && int(opts[1]) <= len(opts) {
		o := opts[:opts[1]]
		opts = opts[opts[1]:]
		if o[0] != 1 || len(o) != 4 {
			rej = append(rej, o...)
			continue
		}
		v := binary.BigEndian.Uint16(o[2:])
		switch {
		case v < u.min && mustReject, v > u.max && mustReject:
			rej = append(rej, o...)
		case v < u.min:
			nak = append(nak, 1, 4, byte(u.min>>8), byte(u.min))
		case v > u.max:
			nak = append(nak, 1, 4, byte(u.max>>8), byte(u.max))
		default:
			u.peer = v
		}
	}
	switch {
	case rej != nil:
		return ConfRej, rej
	case nak != nil:
		return ConfNak, nak
	}
	return ConfAck, nil
}

func (u *unit) Up()       { u.events = append(u.events, "up") }
func (u *unit) Down()     { u.events = append(u.events, "down") }
func (u *unit) Started()  { u.events = append(u.events, "started") }
func (u *unit) Finished() { u.events = append(u.events, "finished") }

// link is two automata joined by a lossless wire (or a cut one) and one
// clock.
type link struct {
	t     *testing.T
	now   time.Duration
	a, b  *FSM
	pa    *unit
	pb    *unit
	toA   [][]byte // packets in flight to a
	toB   [][]byte
	sentA []byte // codes a sent, in order
	cut   bool   // drop everything b sends, and everything a sends
}

func newLink(t *testing.T, pa, pb *unit) *link {
	l := &link{t: t, now: time.Second, pa: pa, pb: pb}
	clock := func() time.Duration { return l.now }
	l.a = New("A", pa, func(p []byte) {
		l.sentA = append(l.sentA, p[0])
		if !l.cut {
			l.toB = append(l.toB, slices.Clone(p))
		}
	}, clock)
	l.b = New("B", pb, func(p []byte) {
		if !l.cut {
			l.toA = append(l.toA, slices.Clone(p))
		}
	}, clock)
	return l
}

// run delivers packets until the wire is quiet, up to a bound that a
// loop between the automata would exceed.
func (l *link) run() {
	for i := 0; len(l.toA)+len(l.toB) > 0; i++ {
		if i > 1000 {
			l.t.Fatalf("the automata still exchange packets after 1000: A %v, B %v", l.a.State(), l.b.State())
		}
		if len(l.toA) > 0 {
			p := l.toA[0]
			l.toA = l.toA[1:]
			l.a.Input(p)
		}
		if len(l.toB) > 0 {
			p := l.toB[0]
			l.toB = l.toB[1:]
			l.b.Input(p)
		}
	}
}

// expire moves the clock past both restart timers and fires them.
func (l *link) expire() {
	l.now += DefaultRestart
	l.a.Tick()
	l.b.Tick()
}

func (l *link) open() {
	for _, f := range []*FSM{l.a, l.b} {
		f.Open()
		f.Up()
	}
	l.run()
}

func TestNegotiate_BothEndsOpen(t *testing.T) {
	l := newLink(t, &unit{want: 1500, min: 128, max: 1500, ask: true}, &unit{want: 1400, min: 128, max: 1500, ask: true})
	l.open()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Fatalf("states after negotiation: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
	if l.pa.acked != 1500 || l.pb.peer != 1500 || l.pb.acked != 1400 || l.pa.peer != 1400 {
		t.Errorf("agreed units: A acked %d, B saw %d; B acked %d, A saw %d; want 1500 and 1400", l.pa.acked, l.pb.peer, l.pb.acked, l.pa.peer)
	}
	for _, u := range []*unit{l.pa, l.pb} {
		if want := []string{"started", "up"}; !slices.Equal(u.events, want) {
			t.Errorf("layer actions %v, want %v", u.events, want)
		}
	}
	if _, running := l.a.Deadline(); running {
		t.Error("the restart timer runs in Opened")
	}
}

// A Nak tells this end what the peer will take; the next request asks for
// it, and the link opens with it.
func TestNegotiate_NakConverges(t *testing.T) {
	l := newLink(t, &unit{want: 9000, min: 128, max: 1500, ask: true}, &unit{want: 1500, min: 128, max: 1500, ask: true})
	l.open()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Fatalf("states: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
	if l.pa.acked != 1500 || l.pb.peer != 1500 {
		t.Errorf("A asked 9000, B allows 1500: A acked %d, B saw %d; want 1500", l.pa.acked, l.pb.peer)
	}
}

// A peer that ignores Naks is not nakked for ever: after MaxFailure Naks
// the option is rejected, and the link opens without it.
func TestNegotiate_NakTurnsToRejectAfterMaxFailure(t *testing.T) {
	l := newLink(t, &unit{want: 9000, min: 128, max: 1500, ask: true, stubborn: true}, &unit{want: 1500, min: 128, max: 1500, ask: true})
	l.open()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Fatalf("states: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
	if l.pa.ask {
		t.Error("A still asks for the option B rejected")
	}
	if n := strings.Count(string(l.sentA), string(rune(ConfReq))); n != DefaultMaxFailure+2 {
		t.Errorf("A sent %d Configure-Requests, want %d (%d nakked, 1 rejected, 1 acked)", n, DefaultMaxFailure+2, DefaultMaxFailure)
	}
}

// A peer that never answers: MaxConfigure requests a restart period
// apart, then Stopped, with a reason a user can read.
func TestTimeout_PeerNotAnswering(t *testing.T) {
	l := newLink(t, &unit{want: 1500, min: 128, max: 1500, ask: true}, &unit{})
	l.cut = true
	l.a.Open()
	l.a.Up()
	for i := 0; i < 100 && l.a.State() != Stopped; i++ {
		d, ok := l.a.Deadline()
		if !ok {
			t.Fatalf("in %v with no restart timer", l.a.State())
		}
		l.now = d
		l.a.Tick()
	}
	if l.a.State() != Stopped || l.a.Reason != "peer not answering" {
		t.Fatalf("after the peer's silence: %v (%q), want stopped (\"peer not answering\")", l.a.State(), l.a.Reason)
	}
	if n := strings.Count(string(l.sentA), string(rune(ConfReq))); n != DefaultMaxConfigure {
		t.Errorf("sent %d Configure-Requests, want MaxConfigure = %d", n, DefaultMaxConfigure)
	}
	if want := []string{"started", "finished"}; !slices.Equal(l.pa.events, want) {
		t.Errorf("layer actions %v, want %v", l.pa.events, want)
	}
	// A Configure-Request from a peer come back restarts negotiation.
	l.cut = false
	l.b.Open()
	l.b.Up()
	l.run()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Errorf("after the peer came back: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
}

// A restart timer that has not expired does nothing.
func TestTick_BeforeDeadline(t *testing.T) {
	l := newLink(t, &unit{ask: true}, &unit{})
	l.cut = true
	l.a.Open()
	l.a.Up()
	sent := len(l.sentA)
	l.now += DefaultRestart - 1
	l.a.Tick()
	if len(l.sentA) != sent || l.a.State() != ReqSent {
		t.Errorf("a tick before the deadline sent %d packets, state %v", len(l.sentA)-sent, l.a.State())
	}
}

func TestTerminate(t *testing.T) {
	l := newLink(t, &unit{want: 1500, min: 128, max: 1500, ask: true}, &unit{want: 1500, min: 128, max: 1500, ask: true})
	l.open()
	l.a.Close("administrative close")
	l.run()
	if l.a.State() != Closed || l.a.Reason != "administrative close" {
		t.Errorf("closing end: %v (%q), want closed", l.a.State(), l.a.Reason)
	}
	if l.b.State() != Stopping || l.b.Reason != "peer terminated" {
		t.Errorf("peer: %v (%q), want stopping (\"peer terminated\")", l.b.State(), l.b.Reason)
	}
	l.expire()
	if l.b.State() != Stopped {
		t.Errorf("peer a restart period after the Terminate: %v, want stopped", l.b.State())
	}
	for _, u := range []*unit{l.pa, l.pb} {
		if want := []string{"started", "up", "down", "finished"}; !slices.Equal(u.events, want) {
			t.Errorf("layer actions %v, want %v", u.events, want)
		}
	}
	// Opened again, from Closed.
	l.a.Open()
	l.run()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Errorf("reopened: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
}

// A peer that sends a Terminate-Request during negotiation and then falls
// silent: this end tries on, and when it gives up says the peer
// terminated, not that it never answered.
func TestTerminateDuringNegotiation(t *testing.T) {
	l := newLink(t, &unit{want: 1500, min: 128, max: 1500, ask: true}, &unit{})
	l.cut = true
	l.a.Open()
	l.a.Up()
	l.a.Input([]byte{TermReq, 1, 0, 4})
	for i := 0; i < 100 && l.a.State() != Stopped; i++ {
		d, _ := l.a.Deadline()
		l.now = d
		l.a.Tick()
	}
	if l.a.State() != Stopped || l.a.Reason != "peer terminated" {
		t.Errorf("%v (%q), want stopped (\"peer terminated\")", l.a.State(), l.a.Reason)
	}
}

// The lower layer going down takes an opened protocol to Starting, and its
// coming back up renegotiates.
func TestLowerLayerDownAndUp(t *testing.T) {
	l := newLink(t, &unit{want: 1500, min: 128, max: 1500, ask: true}, &unit{want: 1500, min: 128, max: 1500, ask: true})
	l.open()
	l.a.Down()
	l.b.Down()
	if l.a.State() != Starting {
		t.Fatalf("after Down: %v, want starting", l.a.State())
	}
	l.a.Up()
	l.b.Up()
	l.run()
	if l.a.State() != Opened || l.b.State() != Opened {
		t.Errorf("after Up: A %v, B %v; want both opened", l.a.State(), l.b.State())
	}
}

// extra knows code 9 (like LCP's Echo-Request).
type extra struct {
	unit
	got []byte
}

func (e *extra) Extra(code, id byte, data []byte) bool {
	if code != EchoReq {
		return false
	}
	e.got = append(e.got, code)
	return true
}

// A code the protocol does not know is Code-Rejected; a Code-Reject of a
// code the automaton needs stops it.
func TestCodeReject(t *testing.T) {
	var out [][]byte
	p := &extra{unit: unit{ask: true}}
	f := New("X", p, func(b []byte) { out = append(out, slices.Clone(b)) }, func() time.Duration { return time.Second })
	f.Open()
	f.Up()
	out = nil
	f.Input([]byte{EchoReq, 1, 0, 8, 0, 0, 0, 0})
	if len(out) != 0 || string(p.got) != string(rune(EchoReq)) {
		t.Errorf("a code the protocol handles: sent %x, handled %v", out, p.got)
	}
	unknown := []byte{42, 7, 0, 6, 0xaa, 0xbb, 0xcc} // one octet of padding past the length
	f.Input(unknown)
	if len(out) != 1 || out[0][0] != CodeRej || string(out[0][4:]) != string(unknown[:6]) {
		t.Fatalf("an unknown code: sent %x, want a Code-Reject carrying the packet (without padding)", out)
	}
	if got := binary.BigEndian.Uint16(out[0][2:]); int(got) != len(out[0]) {
		t.Errorf("Code-Reject length field %d, packet %d octets", got, len(out[0]))
	}
	f.Input([]byte{CodeRej, 1, 0, 8, EchoRep, 1, 0, 4}) // reject of a code LCP can do without
	if f.State() != ReqSent {
		t.Errorf("after a Code-Reject of Echo-Reply: %v, want req-sent still", f.State())
	}
	f.Input([]byte{CodeRej, 2, 0, 8, ConfReq, 1, 0, 4})
	if f.State() != Stopped || f.Reason != "rejected by the peer" {
		t.Errorf("after a Code-Reject of Configure-Request: %v (%q), want stopped", f.State(), f.Reason)
	}
}

// Packets that answer no request, or are malformed, change nothing.
func TestInput_Discards(t *testing.T) {
	var out [][]byte
	p := &unit{want: 1500, ask: true}
	f := New("X", p, func(b []byte) { out = append(out, slices.Clone(b)) }, func() time.Duration { return time.Second })
	f.Open()
	f.Up()
	req := out[0]
	id := req[1]
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"short header", []byte{ConfAck, id, 0}},
		{"length below the header", []byte{ConfAck, id, 0, 3}},
		{"length past the packet", cat([]byte{ConfAck, id, 0, 9}, req[4:])},
		{"ack of another identifier", cat([]byte{ConfAck, id + 1, 0, byte(len(req))}, req[4:])},
		{"ack that changes the options", []byte{ConfAck, id, 0, 8, 1, 4, 0, 1}},
		{"nak of another identifier", []byte{ConfNak, id - 1, 0, 8, 1, 4, 0, 1}},
	} {
		out = nil
		f.Input(tc.pkt)
		if f.State() != ReqSent || len(out) != 0 || p.acked != 0 || p.want != 1500 {
			t.Errorf("%s: state %v, sent %x, acked %d, want %d; want it discarded", tc.name, f.State(), out, p.acked, p.want)
		}
	}
	// The exact Ack, padded, is taken.
	f.Input(cat([]byte{ConfAck, id}, req[2:], []byte{0, 0}))
	if f.State() != AckRcvd || p.acked != 1500 {
		t.Errorf("the matching Ack: %v, acked %d; want ack-rcvd, 1500", f.State(), p.acked)
	}
}

// In Closed, a Configure-Request is answered with a Terminate-Ack, so a
// peer knows this end is not negotiating.
func TestClosed_AnswersTerminateAck(t *testing.T) {
	var out [][]byte
	f := New("X", &unit{}, func(b []byte) { out = append(out, slices.Clone(b)) }, func() time.Duration { return time.Second })
	f.Up()
	if f.State() != Closed {
		t.Fatalf("Up without Open: %v, want closed", f.State())
	}
	f.Input([]byte{ConfReq, 9, 0, 4})
	if len(out) != 1 || out[0][0] != TermAck || out[0][1] != 9 {
		t.Errorf("sent %x, want a Terminate-Ack with identifier 9", out)
	}
}

func cat(bs ...[]byte) []byte { return slices.Concat(bs...) }

// The automaton takes any octets from the peer without panicking and stays
// in one of its states; a fuzzed peer cannot make it send an oversized
// packet.
func FuzzInput(f *testing.F) {
	f.Add([]byte{ConfReq, 1, 0, 8, 1, 4, 5, 220}, []byte{ConfAck, 1, 0, 8, 1, 4, 5, 220}, uint8(3))
	f.Add([]byte{TermReq, 1, 0, 4}, []byte{CodeRej, 1, 0, 8, 1, 1, 0, 4}, uint8(0))
	f.Fuzz(func(t *testing.T, p1, p2 []byte, ops uint8) {
		now := time.Second
		u := &unit{want: 1500, min: 128, max: 1500, ask: true}
		m := New("X", u, func(b []byte) {
			if len(b) > HeaderLen+len(p1)+len(p2)+8 {
				t.Fatalf("sent %d octets for inputs of %d and %d", len(b), len(p1), len(p2))
			}
		}, func() time.Duration { return now })
		m.Open()
		m.Up()
		for i := 0; i < 8; i++ {
			switch (ops >> i) & 3 {
			case 0:
				m.Input(p1)
			case 1:
				m.Input(p2)
			case 2:
				now += DefaultRestart
				m.Tick()
			case 3:
				if i&4 == 0 {
					m.Close("fuzz")
				} else {
					m.Open()
				}
			}
			if s := m.State().String(); strings.HasPrefix(s, "state(") {
				t.Fatalf("left the ten states: %s", s)
			}
			if m.State() == Opened {
				if _, running := m.Deadline(); running {
					t.Fatal("restart timer running in opened")
				}
			}
		}
	})
}
