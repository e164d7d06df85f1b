// Package session is one end of a PPP link on an asynchronous serial line:
// LCP (RFC 1661) with echo keep-alive and loop-back detection, PAP (RFC
// 1334) and CHAP with MD5 (RFC 1994), and IPCP (RFC 1332) with the DNS
// server options of RFC 1877, over the framing of package hdlc.
//
// It plays either role. As a Client (nichost's PPP driver) it
// authenticates when the peer asks, and takes its address and DNS servers
// from the peer. As a Server (the simulated access server, the far end in
// tests) it requires authentication as configured, and hands out one
// address and its DNS servers.
//
// A Session has no goroutine and no clock of its own: the caller feeds it
// the line's octets (Input) and the time, calls Poll by Deadline, and
// writes what it sends (Config.Write) to the line. IPv6 is not carried:
// IPV6CP and every protocol it does not know are Protocol-Rejected, as RFC
// 1661 says, and the peer carries on without them.
package session

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

// Role is which end of the link a session is.
type Role int

// The roles.
const (
	Client Role = iota // dials, authenticates, is given an address
	Server             // answers, requires authentication, gives the address
)

// Security is the authentication, numbered as MicroPython's PPP numbers
// it (PPP.SEC_NONE, SEC_PAP, SEC_CHAP).
type Security int

// The securities.
const (
	SecNone Security = 0
	SecPAP  Security = 1
	SecCHAP Security = 2
)

func (s Security) String() string {
	switch s {
	case SecNone:
		return "none"
	case SecPAP:
		return "PAP"
	case SecCHAP:
		return "CHAP"
	}
	return fmt.Sprintf("security(%d)", int(s))
}

// Phase is the link's phase (RFC 1661 3.2), with Running for the network
// phase once IPCP is opened.
type Phase int

// The phases.
const (
	Dead Phase = iota
	Establish
	Authenticate
	Network
	Running
	Terminate
)

var phaseNames = [...]string{"dead", "establish", "authenticate", "network", "running", "terminate"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Config is a session's configuration.
type Config struct {
	Role Role
	// Security: a Client authenticates with it when the peer asks for it
	// (with SecNone it refuses to); a Server requires it.
	Security Security
	// User and Key are the client's credentials, and the one account a
	// server accepts.
	User, Key string
	// Name is the server's CHAP name, sent in its challenges.
	Name string

	// MRU is the most octets a packet sent to this end may have; 0 is
	// 1500. Anything else is asked for in LCP.
	MRU int
	// ACCM is the control characters this end asks the peer to escape;
	// 0 (none) suits a clean line, 0x000a0000 one with XON/XOFF flow
	// control.
	ACCM uint32
	// EchoInterval is how often an opened link sends an LCP
	// Echo-Request; 0 sends none. After EchoFailures unanswered in a row
	// (0: 3) the link is lost.
	EchoInterval time.Duration
	EchoFailures int
	// Restart is the restart timer of LCP, IPCP and authentication; 0 is
	// RFC 1661's 3 s.
	Restart time.Duration

	// Addr4 is, for a Client, the address it asks for (unset: it asks the
	// peer for one); for a Server, its own address.
	Addr4 netip.Addr
	// Peer4 and DNS are a Server's: the address it gives the client, and
	// the DNS servers (at most two) it gives on request.
	Peer4 netip.Addr
	DNS   []netip.Addr

	// Now reads the time; Rand is the source of magic numbers and CHAP
	// challenges (nil: crypto/rand).
	Now  func() time.Duration
	Rand io.Reader
	// Write sends octets on the line. It must not keep b.
	Write func(b []byte)
	// IP receives the IPv4 packets that arrive while the link runs. It
	// must not keep pkt.
	IP func(pkt []byte)
	// Event, if set, is told of each change of phase: up once IPCP opened
	// (Info says what was agreed), down when the link goes back to dead.
	Event func(up bool)
}

// Info is what the link agreed, once Running.
type Info struct {
	Addr4, Peer4 netip.Addr
	DNS          []netip.Addr
	// MTU is the largest packet this end may send: the peer's MRU.
	MTU int
}

// Stats counts what a session saw and did.
type Stats struct {
	Line        hdlc.Stats
	IPIn, IPOut uint64 // IPv4 packets received and sent
	ProtoRej    uint64 // packets of protocols it does not carry, Protocol-Rejected
	EchoSent    uint64
	EchoMissed  uint64 // Echo-Requests unanswered by the next one's time
	Discarded   uint64 // packets of a protocol not yet open
}

// Session is one end of a PPP link.
type Session struct {
	cfg Config

	dec     *hdlc.Decoder
	send    hdlc.Send // how frames go to the peer
	out     []byte    // the frame being written
	phase   Phase
	failure string // why the link last failed; "" when it did not

	lcp  *lcp
	auth *auth
	ipcp *ipcp
	lf   *fsm.FSM // LCP's automaton
	nf   *fsm.FSM // IPCP's

	info  Info
	stats Stats
	rejID byte
}

// Errors of SendIP.
var (
	ErrNotRunning = errors.New("ppp: the link is not running")
	ErrTooBig     = errors.New("ppp: packet larger than the peer's MRU")
)

// New makes a session; it stays dead until Open.
func New(cfg Config) *Session {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.MRU <= 0 {
		cfg.MRU = 1500
	}
	if cfg.EchoFailures <= 0 {
		cfg.EchoFailures = 3
	}
	s := &Session{cfg: cfg, dec: hdlc.NewDecoder(hdlc.DefaultReceive), send: hdlc.DefaultSend}
	s.lcp = newLCP(s)
	s.auth = &auth{s: s}
	s.ipcp = &ipcp{s: s}
	s.lf = fsm.New("LCP", s.lcp, func(p []byte) { s.write(hdlc.ProtoLCP, p) }, cfg.Now)
	s.nf = fsm.New("IPCP", s.ipcp, func(p []byte) { s.write(hdlc.ProtoIPCP, p) }, cfg.Now)
	for _, f := range []*fsm.FSM{s.lf, s.nf} {
		f.Restart = cfg.Restart
	}
	return s
}

// Open starts the link on a line that is up (after a modem's dial step):
// LCP begins to negotiate.
func (s *Session) Open() {
	s.failure = ""
	s.phase = Establish
	s.lf.Open()
	s.lf.Up()
}

// Close ends the link: the network protocols close, then LCP terminates
// (RFC 1661 3.7). The session is dead once the peer acknowledged or the
// restart timer ran out.
func (s *Session) Close() {
	if s.phase == Dead {
		return
	}
	s.nf.Close(reasonClosed)
	s.lf.Close(reasonClosed)
	s.afterClose()
}

// reasonClosed is the automata's reason for a close this end's user asked
// for: not a failure.
const reasonClosed = "closed"

// closeFor ends the link for a failure.
func (s *Session) closeFor(why string) {
	s.fail(why)
	s.nf.Close(why)
	s.lf.Close(why)
	s.afterClose()
}

// afterClose sets the phase LCP's Close left: terminating while it waits
// for the peer's Terminate-Ack, dead if there was nothing to terminate.
func (s *Session) afterClose() {
	switch s.lf.State() {
	case fsm.Closing, fsm.Stopping:
		s.phase = Terminate
	case fsm.Initial, fsm.Closed, fsm.Stopped:
		s.leaveRunning()
		s.phase = Dead
	}
}

// leaveRunning tells the user the link no longer runs, if it did.
func (s *Session) leaveRunning() {
	if s.phase == Running && s.cfg.Event != nil {
		s.cfg.Event(false)
	}
	s.info.Addr4, s.info.Peer4, s.info.DNS = netip.Addr{}, netip.Addr{}, nil
}

// Phase is the link's phase.
func (s *Session) Phase() Phase { return s.phase }

// Failure is why the link last failed ("peer not answering", "loop-back
// detected", "authentication refused by the peer"), "" if it did not or
// was closed by this end.
func (s *Session) Failure() string { return s.failure }

// Running says whether IPCP is opened: IPv4 packets move.
func (s *Session) Running() bool { return s.phase == Running }

// Info is what the link agreed; valid while Running.
func (s *Session) Info() Info { return s.info }

// Stats is what the session counted.
func (s *Session) Stats() Stats {
	st := s.stats
	st.Line = s.dec.Stats()
	return st
}

// LCPState and IPCPState are the automata's states, for status.
func (s *Session) LCPState() fsm.State  { return s.lf.State() }
func (s *Session) IPCPState() fsm.State { return s.nf.State() }

// Input takes octets received on the line, in any pieces.
func (s *Session) Input(b []byte) { s.dec.Write(b, s.frame) }

// SendIP sends one IPv4 packet.
func (s *Session) SendIP(pkt []byte) error {
	if s.phase != Running {
		return ErrNotRunning
	}
	if len(pkt) > s.info.MTU {
		return ErrTooBig
	}
	s.stats.IPOut++
	s.write(hdlc.ProtoIPv4, pkt)
	return nil
}

// Poll runs the timers: restarts, authentication retries, echo.
func (s *Session) Poll() {
	s.lf.Tick()
	s.auth.tick()
	s.nf.Tick()
	s.lcp.echoTick()
	s.closePending()
}

// closePending closes the link for a failure found inside an automaton's
// callback, where closing at once would re-enter it.
func (s *Session) closePending() {
	if why := s.lcp.closing; why != "" {
		s.lcp.closing = ""
		s.closeFor(why)
	}
}

// Deadline is when Poll has work next; ok is false when nothing waits on
// time.
func (s *Session) Deadline() (d time.Duration, ok bool) {
	earliest := func(t time.Duration, has bool) {
		if has && (!ok || t < d) {
			d, ok = t, true
		}
	}
	earliest(s.lf.Deadline())
	earliest(s.nf.Deadline())
	earliest(s.auth.deadline, s.auth.deadline != 0)
	earliest(s.lcp.echoAt, s.lcp.echoAt != 0)
	return d, ok
}

func (s *Session) now() time.Duration { return s.cfg.Now() }

func (s *Session) restart() time.Duration {
	if s.cfg.Restart > 0 {
		return s.cfg.Restart
	}
	return fsm.DefaultRestart
}

// write frames one packet of proto and sends it on the line.
func (s *Session) write(proto uint16, info []byte) {
	s.out = hdlc.Append(s.out[:0], proto, info, s.send)
	s.cfg.Write(s.out)
}

// fail records why the link failed; the first reason stands until the
// link is opened again.
func (s *Session) fail(why string) {
	if s.failure == "" {
		s.failure = why
	}
}

// frame dispatches one received frame by protocol.
func (s *Session) frame(proto uint16, info []byte) {
	if proto == hdlc.ProtoLCP {
		s.lf.Input(info)
		if s.phase == Dead {
			switch s.lf.State() {
			case fsm.ReqSent, fsm.AckRcvd, fsm.AckSent:
				// A peer's Configure-Request woke a stopped LCP (RFC 1661
				// 4.3's Stopped state, waiting for one).
				s.failure, s.phase = "", Establish
			}
		}
		s.closePending()
		return
	}
	if s.lf.State() != fsm.Opened {
		s.stats.Discarded++ // only LCP before LCP opened (RFC 1661 3.4)
		return
	}
	switch proto {
	case hdlc.ProtoPAP, hdlc.ProtoCHAP:
		s.auth.input(proto, info)
	case hdlc.ProtoIPCP:
		if s.phase < Network {
			s.stats.Discarded++
			return
		}
		s.nf.Input(info)
		s.closePending()
	case hdlc.ProtoIPv4:
		if s.phase != Running {
			s.stats.Discarded++
			return
		}
		s.stats.IPIn++
		if s.cfg.IP != nil {
			s.cfg.IP(info)
		}
	default:
		// A protocol this end does not carry (IPV6CP, IPv6, compressed
		// TCP): Protocol-Reject, with the protocol and as much of the
		// packet as the peer's MRU allows (RFC 1661 5.7).
		s.stats.ProtoRej++
		s.rejID++
		room := s.info.MTU - fsm.HeaderLen - 2
		if room < 0 {
			room = 0
		}
		data := binary.BigEndian.AppendUint16(nil, proto)
		data = append(data, info[:min(len(info), room)]...)
		s.lf.Send(fsm.ProtoRej, s.rejID, data)
	}
}

// networkPhase starts IPCP, once authentication is done (or none was
// asked for).
func (s *Session) networkPhase() {
	s.phase = Network
	s.ipcp.reset()
	s.nf.Open()
	s.nf.Up()
}

// running is IPCP opened.
func (s *Session) running() {
	s.phase = Running
	if s.cfg.Event != nil {
		s.cfg.Event(true)
	}
}

// randU32 is a random number from the configured source.
func (s *Session) randU32() uint32 {
	var b [4]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return uint32(s.now()) ^ 0x5a5a5a5a // a source that fails still gives a number
	}
	return binary.BigEndian.Uint32(b[:])
}
