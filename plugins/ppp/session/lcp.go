package session

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

// LCP's configuration options (RFC 1661 6; Auth-Protocol's CHAP form RFC
// 1994 3).
const (
	optMRU   = 1
	optACCM  = 2
	optAuth  = 3
	optMagic = 5
	optPFC   = 7
	optACFC  = 8
)

// chapMD5 is CHAP's algorithm octet for MD5.
const chapMD5 = 5

// maxLoops is how many Configure-Requests in a row may carry this end's
// own magic number before the link is taken to be looped back.
const maxLoops = 5

// lcp is LCP's options and layer actions, for the automaton.
type lcp struct {
	s *Session

	// What this end asks for; an option the peer rejects is not asked
	// for again.
	mru                      uint16
	accm                     uint32
	magic                    uint32
	askMRU, askACCM          bool
	askMagic, askPFC, askACF bool
	askAuth                  bool // a Server's: the authentication it requires

	// What the peer asked for, as last acknowledged: how this end sends.
	peerMRU  uint16
	peerACCM uint32
	peerPFC  bool
	peerACFC bool
	peerAuth Security // the authentication the peer requires of this end

	loops   int    // Configure-Requests in a row carrying our magic
	closing string // a reason to close for, found inside the automaton

	echoAt  time.Duration // the next Echo-Request; 0: none
	echoOut int           // Echo-Requests unanswered
	echoID  byte
}

func newLCP(s *Session) *lcp {
	l := &lcp{s: s}
	l.reset()
	return l
}

// reset asks for everything again, as at the start of a link.
func (l *lcp) reset() {
	c := l.s.cfg
	l.mru, l.askMRU = uint16(c.MRU), c.MRU != 1500
	l.accm, l.askACCM = c.ACCM, true
	l.magic, l.askMagic = l.s.randU32()|1, true
	l.askPFC, l.askACF = true, true
	l.askAuth = c.Role == Server && c.Security != SecNone
	l.loops = 0
}

func (l *lcp) AppendRequest(b []byte) []byte {
	if l.askMRU {
		b = appendU16(b, optMRU, l.mru)
	}
	if l.askACCM {
		b = appendU32(b, optACCM, l.accm)
	}
	if l.askAuth {
		b = appendAuth(b, l.s.cfg.Security)
	}
	if l.askMagic {
		b = appendU32(b, optMagic, l.magic)
	}
	if l.askPFC {
		b = appendOption(b, optPFC)
	}
	if l.askACF {
		b = appendOption(b, optACFC)
	}
	return b
}

func appendAuth(b []byte, sec Security) []byte {
	if sec == SecCHAP {
		return appendOption(b, optAuth, byte(hdlc.ProtoCHAP>>8), byte(hdlc.ProtoCHAP&0xff), chapMD5)
	}
	return appendU16(b, optAuth, hdlc.ProtoPAP)
}

func (l *lcp) Acked([]byte) {}

func (l *lcp) Nakked(opts []byte) {
	_ = parseOptions(opts, func(o option) error {
		switch o.typ {
		case optMRU:
			// The peer would have a smaller MRU; take it if it is one a
			// packet fits in.
			if v, ok := o.u16(); ok && v >= 128 && v <= 1500 {
				l.mru, l.askMRU = v, v != 1500
			}
		case optACCM:
			if v, ok := o.u32(); ok {
				l.accm |= v // escape what the peer needs too
			}
		case optMagic:
			l.magic = l.s.randU32() | 1 // the peer saw ours come back, or took it
		case optAuth:
			// The peer would authenticate otherwise: a server insists;
			// the peer's Naks turn to a Reject, and the link fails.
		case optPFC, optACFC:
			// Nothing to nak in a boolean: treat as a reject.
			l.reject(o.typ)
		}
		return nil
	})
}

func (l *lcp) Rejected(opts []byte) {
	_ = parseOptions(opts, func(o option) error {
		l.reject(o.typ)
		return nil
	})
}

func (l *lcp) reject(typ byte) {
	switch typ {
	case optMRU:
		l.askMRU, l.mru = false, 1500
	case optACCM:
		l.askACCM = false
	case optMagic:
		l.askMagic, l.magic = false, 0
	case optPFC:
		l.askPFC = false
	case optACFC:
		l.askACF = false
	case optAuth:
		if l.askAuth {
			l.closing = "the peer refused to authenticate (it rejected " + l.s.cfg.Security.String() + ")"
		}
	}
}

// Check answers the peer's Configure-Request.
func (l *lcp) Check(opts []byte, mustReject bool) (byte, []byte) {
	var r reply
	mru, accm, pfc, acfc, sec := uint16(1500), uint32(hdlc.DefaultACCM), false, false, SecNone
	nak := func(o option, data []byte) {
		if mustReject {
			r.reject(o)
		} else {
			r.nak = appendOption(r.nak, o.typ, data...)
		}
	}
	looped := false
	err := parseOptions(opts, func(o option) error {
		switch o.typ {
		case optMRU:
			v, ok := o.u16()
			switch {
			case !ok:
				r.reject(o)
			case v < 128:
				nak(o, []byte{0, 128}) // too small for anything useful
			default:
				mru = v
			}
		case optACCM:
			if v, ok := o.u32(); ok {
				accm = v
			} else {
				r.reject(o)
			}
		case optAuth:
			s, ok := l.checkAuth(o)
			switch {
			case ok:
				sec = s
			case l.s.cfg.Role == Server || l.s.cfg.Security == SecNone:
				r.reject(o) // a server authenticates no one to a client; without credentials a client cannot
			default:
				nak(o, appendAuth(nil, l.s.cfg.Security)[2:])
			}
		case optMagic:
			v, ok := o.u32()
			switch {
			case !ok:
				r.reject(o)
			case v == 0 || (l.askMagic && v == l.magic):
				// Our own number coming back: the line may be looped
				// (RFC 1661 6.4). Nak with another, and count.
				looped = v != 0
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], l.s.randU32()|1)
				nak(o, b[:])
			}
		case optPFC, optACFC:
			if len(o.data) != 0 {
				r.reject(o)
			} else if o.typ == optPFC {
				pfc = true
			} else {
				acfc = true
			}
		default:
			r.reject(o) // FCS-Alternatives, callback, multilink, ...
		}
		return nil
	})
	if err != nil {
		// A list that does not parse cannot be answered option by
		// option: reject it whole, and the peer will send a better one.
		return fsm.ConfRej, opts
	}
	if looped {
		l.loops++
		if l.loops >= maxLoops {
			l.closing = "loop-back detected: the peer sends this end's own magic number"
		}
	} else {
		l.loops = 0
	}
	code, data := r.result()
	if code == fsm.ConfAck {
		l.peerMRU, l.peerACCM, l.peerPFC, l.peerACFC, l.peerAuth = mru, accm, pfc, acfc, sec
	}
	return code, data
}

// checkAuth says whether a Client takes the peer's Auth-Protocol option.
func (l *lcp) checkAuth(o option) (Security, bool) {
	if l.s.cfg.Role != Client {
		return SecNone, false
	}
	want := l.s.cfg.Security
	switch {
	case len(o.data) == 2 && binary.BigEndian.Uint16(o.data) == hdlc.ProtoPAP && want == SecPAP:
		return SecPAP, true
	case len(o.data) == 3 && binary.BigEndian.Uint16(o.data) == hdlc.ProtoCHAP && o.data[2] == chapMD5 && want == SecCHAP:
		return SecCHAP, true
	}
	return SecNone, false
}

// Up is LCP opened: frames go as agreed, and authentication starts.
func (l *lcp) Up() {
	s := l.s
	s.send = hdlc.Send{ACCM: l.peerACCM, ACFC: l.peerACFC, PFC: l.peerPFC}
	// This end receives any frame up to 1500 whatever MRU it asked for
	// (RFC 1661 6.1 says it must be able to).
	s.dec.SetReceive(hdlc.Receive{ACCM: l.accmIfAsked(), MRU: max(int(l.mru), 1500)})
	s.info.MTU = int(l.peerMRU)
	l.echoOut = 0
	if iv := s.cfg.EchoInterval; iv > 0 {
		l.echoAt = s.now() + iv
	}
	s.phase = Authenticate
	s.auth.start(l.peerAuth)
}

func (l *lcp) accmIfAsked() uint32 {
	if l.askACCM {
		return l.accm
	}
	return hdlc.DefaultACCM
}

// Down is LCP leaving Opened: everything above it goes down, and frames go
// as before negotiation.
func (l *lcp) Down() {
	s := l.s
	s.nf.Down()
	s.auth.stop()
	l.echoAt = 0
	s.send = hdlc.DefaultSend
	s.dec.SetReceive(hdlc.DefaultReceive)
	s.leaveRunning()
	if s.phase != Terminate {
		s.phase = Establish
	}
}

func (l *lcp) Started() {}

// Finished is LCP done with the line: the link is dead.
func (l *lcp) Finished() {
	s := l.s
	if why := s.lf.Reason; why != "" && why != reasonClosed {
		s.fail(why)
	}
	s.phase = Dead
	l.reset()
}

// Extra handles LCP's codes 8 to 11.
func (l *lcp) Extra(code, id byte, data []byte) bool {
	s := l.s
	switch code {
	case fsm.EchoReq:
		if s.lf.State() != fsm.Opened || len(data) < 4 {
			return true // discarded outside Opened (RFC 1661 5.8)
		}
		if m := binary.BigEndian.Uint32(data); m != 0 && m == l.magic && l.askMagic {
			s.fail("loop-back detected: an Echo-Request carried this end's own magic number")
			l.closing = s.failure
			return true
		}
		reply := binary.BigEndian.AppendUint32(nil, l.myMagic())
		s.lf.Send(fsm.EchoRep, id, append(reply, data[4:]...))
	case fsm.EchoRep:
		if len(data) >= 4 && s.lf.State() == fsm.Opened {
			l.echoOut = 0
		}
	case fsm.DiscardReq:
	case fsm.ProtoRej:
		// The peer does not carry a protocol we sent: for IPCP that is
		// the end of the network phase (RXJ-); for others, nothing to do.
		if len(data) >= 2 && binary.BigEndian.Uint16(data) == hdlc.ProtoIPCP {
			s.nf.RXJMinus()
			l.closing = "the peer rejected IPCP: it carries no IPv4"
		}
	default:
		return false
	}
	return true
}

func (l *lcp) myMagic() uint32 {
	if l.askMagic {
		return l.magic
	}
	return 0
}

// echoTick sends the next Echo-Request, or, after EchoFailures went
// unanswered, takes the link for lost.
func (l *lcp) echoTick() {
	s := l.s
	if l.echoAt == 0 || s.now() < l.echoAt {
		return
	}
	if l.echoOut >= s.cfg.EchoFailures {
		s.closeFor("peer not answering: no reply to " + strconv.Itoa(l.echoOut) + " LCP Echo-Requests")
		return
	}
	if l.echoOut > 0 {
		s.stats.EchoMissed++
	}
	l.echoOut++
	l.echoID++
	s.stats.EchoSent++
	s.lf.Send(fsm.EchoReq, l.echoID, binary.BigEndian.AppendUint32(nil, l.myMagic()))
	l.echoAt = s.now() + s.cfg.EchoInterval
}
