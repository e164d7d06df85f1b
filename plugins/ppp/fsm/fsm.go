// Package fsm is PPP's option negotiation automaton (RFC 1661 section 4),
// which LCP and every network control protocol (IPCP, IPV6CP) run: the ten
// states, the restart timer and counters, and the Configure, Terminate and
// Code-Reject packets. What the options mean is the protocol's: it plugs in
// as a Protocol.
//
// The automaton has no goroutine and no clock of its own: the caller feeds
// it events, packets and the time (a driver's poll), and arms its next
// wake-up from Deadline.
package fsm

import (
	"encoding/binary"
	"fmt"
	"time"
)

// State is one of the automaton's states (RFC 1661 4.2).
type State int

// The states.
const (
	Initial State = iota
	Starting
	Closed
	Stopped
	Closing
	Stopping
	ReqSent
	AckRcvd
	AckSent
	Opened
)

var stateNames = [...]string{"initial", "starting", "closed", "stopped", "closing", "stopping", "req-sent", "ack-rcvd", "ack-sent", "opened"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Packet codes (RFC 1661 5); 8 to 11 are LCP's alone.
const (
	ConfReq    = 1
	ConfAck    = 2
	ConfNak    = 3
	ConfRej    = 4
	TermReq    = 5
	TermAck    = 6
	CodeRej    = 7
	ProtoRej   = 8
	EchoReq    = 9
	EchoRep    = 10
	DiscardReq = 11
)

// HeaderLen is a packet's code, identifier and length.
const HeaderLen = 4

// Protocol is what a control protocol plugs into the automaton: its
// options, and what it does when its layer comes up or goes down.
type Protocol interface {
	// AppendRequest appends the options of the next Configure-Request:
	// what this end wants, as the peer's Naks and Rejects left it.
	AppendRequest(dst []byte) []byte
	// Acked says the peer acknowledged the options of the last request:
	// they are in force for what this end receives.
	Acked(opts []byte)
	// Nakked and Rejected take the peer's Configure-Nak and
	// Configure-Reject of the last request; the next request follows
	// them.
	Nakked(opts []byte)
	Rejected(opts []byte)
	// Check answers the peer's Configure-Request: ConfAck (reply nil: the
	// request is acknowledged as it is), or ConfNak or ConfRej with the
	// options to send back. On ConfAck the options are in force for what
	// this end sends. A protocol nakking for ever is turned to rejecting
	// after MaxFailure Naks: mustReject is then true, and the options it
	// would nak are to be rejected.
	Check(opts []byte, mustReject bool) (code byte, reply []byte)
	// Up, Down, Started and Finished are the automaton's layer actions:
	// This-Layer-Up (the protocol opened), -Down (it left Opened),
	// -Started (it needs the lower layer), -Finished (it no longer does).
	Up()
	Down()
	Started()
	Finished()
}

// Extra is implemented by a protocol with codes beyond 1 to 7 (LCP's
// Echo, Discard and Protocol-Reject). Other packets reaching it: handled
// is false for a code it does not know, which is Code-Rejected.
type Extra interface {
	Extra(code, id byte, data []byte) (handled bool)
}

// Timers and counters, RFC 1661 4.6's defaults.
const (
	DefaultRestart      = 3 * time.Second
	DefaultMaxConfigure = 10
	DefaultMaxTerminate = 2
	DefaultMaxFailure   = 5
)

// FSM is one protocol's automaton.
type FSM struct {
	// Name is the protocol's name, for logs ("LCP", "IPCP").
	Name string
	// Restart, MaxConfigure, MaxTerminate and MaxFailure are RFC 1661
	// 4.6's; zero values take the defaults.
	Restart                                time.Duration
	MaxConfigure, MaxTerminate, MaxFailure int

	p    Protocol
	send func(pkt []byte) // sends a whole packet of the protocol
	now  func() time.Duration

	state    State
	counter  int           // the restart counter
	deadline time.Duration // when the restart timer expires; 0: stopped
	failures int           // Configure-Naks sent since the last Ack sent
	reqID    byte          // the last Configure-Request's identifier
	req      []byte        // its options, which an Ack must match
	termID   byte
	rejID    byte
	buf      []byte // packets are built here
	// Reason is why the automaton last closed or stopped ("peer
	// terminated", "peer not answering"); "" when it is not.
	Reason string
}

// New makes the automaton of protocol p, which sends its packets (code,
// identifier, length, data) with send, and reads the time with now. send
// must not keep pkt past its return: the automaton reuses it.
func New(name string, p Protocol, send func(pkt []byte), now func() time.Duration) *FSM {
	return &FSM{Name: name, p: p, send: send, now: now}
}

// State is the automaton's state.
func (f *FSM) State() State { return f.state }

// Deadline is when the restart timer expires, if it runs: call Tick then.
func (f *FSM) Deadline() (time.Duration, bool) { return f.deadline, f.deadline != 0 }

func (f *FSM) restart() time.Duration {
	if f.Restart > 0 {
		return f.Restart
	}
	return DefaultRestart
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// Up is the lower layer coming up.
func (f *FSM) Up() {
	switch f.state {
	case Initial:
		f.state = Closed
	case Starting:
		f.irc(ConfReq)
		f.scr()
		f.state = ReqSent
	}
}

// Down is the lower layer going down.
func (f *FSM) Down() {
	switch f.state {
	case Closed, Closing:
		f.stopTimer()
		f.state = Initial
	case Stopped:
		f.p.Started()
		f.state = Starting
	case Stopping, ReqSent, AckRcvd, AckSent:
		f.stopTimer()
		f.state = Starting
	case Opened:
		f.p.Down()
		f.state = Starting
	}
}

// Open is the administrative Open: this end wants the protocol up.
func (f *FSM) Open() {
	f.Reason = ""
	switch f.state {
	case Initial:
		f.p.Started()
		f.state = Starting
	case Closed:
		f.irc(ConfReq)
		f.scr()
		f.state = ReqSent
	case Closing:
		f.state = Stopping
	}
}

// Close is the administrative Close, for reason.
func (f *FSM) Close(reason string) {
	f.Reason = reason
	switch f.state {
	case Starting:
		f.p.Finished()
		f.state = Initial
	case Stopped:
		f.state = Closed
	case Stopping:
		f.state = Closing
	case ReqSent, AckRcvd, AckSent:
		f.irc(TermReq)
		f.str()
		f.state = Closing
	case Opened:
		f.p.Down()
		f.irc(TermReq)
		f.str()
		f.state = Closing
	}
}

// Tick fires the restart timer if it has expired.
func (f *FSM) Tick() {
	if f.deadline == 0 || f.now() < f.deadline {
		return
	}
	f.deadline = 0
	if f.counter > 0 { // TO+
		switch f.state {
		case Closing, Stopping:
			f.str()
		case ReqSent, AckRcvd:
			f.scr()
			f.state = ReqSent
		case AckSent:
			f.scr()
		}
		return
	}
	// TO-: the peer stopped answering.
	switch f.state {
	case Closing:
		f.p.Finished()
		f.state = Closed
	case Stopping, ReqSent, AckRcvd, AckSent:
		if f.state != Stopping && f.Reason == "" {
			f.Reason = "peer not answering"
		}
		f.p.Finished()
		f.state = Stopped
	}
}

// Input takes a packet of the protocol received from the peer. Malformed
// packets, and replies that answer no request of ours, are silently
// discarded (RFC 1661 5).
func (f *FSM) Input(pkt []byte) {
	if len(pkt) < HeaderLen {
		return
	}
	n := int(binary.BigEndian.Uint16(pkt[2:]))
	if n < HeaderLen || n > len(pkt) {
		return
	}
	pkt = pkt[:n] // octets past the length are padding
	code, id, data := pkt[0], pkt[1], pkt[HeaderLen:]
	if f.state == Initial || f.state == Starting {
		return // the lower layer is not up: nothing should arrive
	}
	switch code {
	case ConfReq:
		f.rcr(id, data)
	case ConfAck, ConfNak, ConfRej:
		switch {
		case f.state == Closed || f.state == Stopped:
			f.sendPkt(TermAck, id, nil) // sta: the peer thinks we negotiate
		case id != f.reqID:
			// answers no request of ours (a stale retransmission)
		case code == ConfAck && string(data) != string(f.req):
			// an Ack must repeat the request exactly (RFC 1661 5.2)
		case code == ConfAck:
			f.rca(data)
		default:
			f.rcn(code, data)
		}
	case TermReq:
		f.rtr(id)
	case TermAck:
		f.rta()
	case CodeRej:
		// A reject of a code the automaton needs is catastrophic (RXJ-).
		if len(data) > 0 && data[0] >= ConfReq && data[0] <= CodeRej {
			f.RXJMinus()
		}
	default:
		if x, ok := f.p.(Extra); ok && x.Extra(code, id, data) {
			return
		}
		f.scj(pkt)
	}
}

func (f *FSM) rcr(id byte, opts []byte) {
	switch f.state {
	case Closed:
		f.sendPkt(TermAck, id, nil)
		return
	case Closing, Stopping:
		return
	case Opened:
		f.p.Down()
	}
	code, reply := f.p.Check(opts, f.failures >= orDefault(f.MaxFailure, DefaultMaxFailure))
	if f.state == Stopped || f.state == Opened {
		if f.state == Stopped {
			f.irc(ConfReq)
		}
		f.scr()
	}
	good := code == ConfAck
	if good {
		f.failures = 0
		f.sendPkt(ConfAck, id, opts)
	} else {
		if code == ConfNak {
			f.failures++
		}
		f.sendPkt(code, id, reply)
	}
	switch {
	case good && f.state == AckRcvd:
		f.opened()
	case good:
		f.state = AckSent
	case f.state == AckRcvd:
		// scn: stays Ack-Rcvd
	default:
		f.state = ReqSent
	}
}

func (f *FSM) rca(opts []byte) {
	switch f.state {
	case ReqSent:
		f.p.Acked(opts)
		f.irc(ConfReq)
		f.state = AckRcvd
	case AckRcvd:
		f.scr() // crossed connection
		f.state = ReqSent
	case AckSent:
		f.p.Acked(opts)
		f.irc(ConfReq)
		f.opened()
	case Opened:
		f.p.Down()
		f.scr()
		f.state = ReqSent
	}
}

func (f *FSM) rcn(code byte, opts []byte) {
	switch f.state {
	case Closing, Stopping:
		return
	case Opened:
		f.p.Down()
	}
	if code == ConfNak {
		f.p.Nakked(opts)
	} else {
		f.p.Rejected(opts)
	}
	switch f.state {
	case ReqSent, AckSent:
		f.irc(ConfReq)
		f.scr()
	case AckRcvd, Opened:
		f.scr()
		f.state = ReqSent
	}
}

func (f *FSM) rtr(id byte) {
	switch f.state {
	case ReqSent, AckRcvd, AckSent:
		// The peer gave up during negotiation; this end tries on, as RFC
		// 1661 says, but if it gives up too, this is why.
		f.state = ReqSent
		if f.Reason == "" {
			f.Reason = "peer terminated"
		}
	case Opened:
		f.p.Down()
		f.counter = 0
		f.startTimer() // zrc: wait a restart period before Stopped
		f.state = Stopping
		f.Reason = "peer terminated"
	}
	f.sendPkt(TermAck, id, nil)
}

func (f *FSM) rta() {
	switch f.state {
	case Closing:
		f.stopTimer()
		f.p.Finished()
		f.state = Closed
	case Stopping:
		f.stopTimer()
		f.p.Finished()
		f.state = Stopped
	case AckRcvd:
		f.state = ReqSent
	case Opened:
		f.p.Down()
		f.scr()
		f.state = ReqSent
	}
}

// RXJMinus is a catastrophic reject: the peer refused a code or, for an
// NCP, its protocol (LCP's Protocol-Reject). The automaton gives up.
func (f *FSM) RXJMinus() {
	f.Reason = "rejected by the peer"
	switch f.state {
	case Closed, Closing:
		f.stopTimer()
		f.p.Finished()
		f.state = Closed
	case Stopped, Stopping, ReqSent, AckRcvd, AckSent:
		f.stopTimer()
		f.p.Finished()
		f.state = Stopped
	case Opened:
		f.p.Down()
		f.irc(TermReq)
		f.str()
		f.state = Stopping
	}
}

// opened is This-Layer-Up: negotiation is over, and whatever went wrong
// on the way is no longer a reason.
func (f *FSM) opened() {
	f.stopTimer()
	f.state = Opened
	f.Reason = ""
	f.p.Up()
}

// irc initialises the restart counter for the packets of code.
func (f *FSM) irc(code byte) {
	if code == TermReq {
		f.counter = orDefault(f.MaxTerminate, DefaultMaxTerminate)
	} else {
		f.counter = orDefault(f.MaxConfigure, DefaultMaxConfigure)
	}
}

func (f *FSM) startTimer() {
	f.deadline = f.now() + f.restart()
	if f.deadline == 0 {
		f.deadline = 1
	}
}

func (f *FSM) stopTimer() { f.deadline = 0 }

// scr sends a Configure-Request with a new identifier.
func (f *FSM) scr() {
	f.reqID++
	f.req = f.p.AppendRequest(f.req[:0])
	f.counter--
	f.startTimer()
	f.sendPkt(ConfReq, f.reqID, f.req)
}

// str sends a Terminate-Request.
func (f *FSM) str() {
	f.termID++
	f.counter--
	f.startTimer()
	f.sendPkt(TermReq, f.termID, nil)
}

// scj sends a Code-Reject of pkt.
func (f *FSM) scj(pkt []byte) {
	f.rejID++
	f.sendPkt(CodeRej, f.rejID, pkt)
}

// Send sends a packet of the protocol: code, id and data (Echo replies,
// Protocol-Rejects).
func (f *FSM) Send(code, id byte, data []byte) { f.sendPkt(code, id, data) }

func (f *FSM) sendPkt(code, id byte, data []byte) {
	b := append(f.buf[:0], code, id, 0, 0)
	b = append(b, data...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	f.buf = b
	f.send(b)
}
