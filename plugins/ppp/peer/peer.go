// Package peer is a simulated PPP access server on a serial line, the far
// end of nichost's PPP driver in tests and in the demo: package session in
// its Server role, behind an optional simulated AT modem, on a line with a
// baud rate (octets move at the pace a real line allows, both ways) and
// optional octet corruption and loss.
//
// It requires the authentication it is given (none, PAP or CHAP, one
// account), gives the client one address and its DNS servers, and hands
// the client's IPv4 packets to Options.IP: its routed side.
package peer

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
	"github.com/nichost/nichost/plugins/ppp/session"
)

// Options shape a peer.
type Options struct {
	// Baud is the line's rate in bits per second, 10 bits an octet (8N1);
	// 0 moves octets as fast as they come.
	Baud int
	// Corrupt and Loss are the chances that an octet on the line, either
	// way, is changed or lost; Seed makes the noise repeatable.
	Corrupt, Loss float64
	Seed          uint64

	// Security is the authentication the peer requires; User and Key the
	// one account it accepts; Name its CHAP name.
	Security  session.Security
	User, Key string
	Name      string

	// Addr4 is the peer's own address, Peer4 the client's, DNS the
	// servers it gives (defaults: 10.64.0.1, 10.64.0.2, none).
	Addr4, Peer4 netip.Addr
	DNS          []netip.Addr
	// MRU is the peer's MRU (0: 1500); EchoInterval its LCP echoes (0:
	// none).
	MRU          int
	EchoInterval time.Duration

	// IP receives the client's IPv4 packets, on the peer's goroutine; it
	// must not keep pkt or block.
	IP func(pkt []byte)

	// Modem, if set, puts a simulated AT modem before the peer: PPP starts
	// only once the client dialled.
	Modem *Modem

	// Strict records the client's misuse of the link (Misuse): frames
	// that fail to check, and packets sent before their protocol's
	// phase. Give it only on a line without noise, whose damage would
	// read as the client's.
	Strict bool
}

// Modem is a simulated AT modem: in command mode it answers every line
// beginning with AT with OK, and a dial command (ATD...) with Answer
// after DialTime; CONNECT (the default Answer) takes it on line, to PPP.
type Modem struct {
	Answer   string        // "CONNECT 115200" unless set ("NO CARRIER", "BUSY")
	DialTime time.Duration // how long the dial takes
	Silent   bool          // answers nothing at all (a modem that is off)
}

// Peer is a running simulated access server.
type Peer struct {
	line bus.UART
	opts Options
	rng  *rand.Rand

	mu     sync.Mutex
	sess   *session.Session
	start  time.Time
	online bool      // past the modem: PPP runs
	cmd    []byte    // the modem's command line so far
	dialAt time.Time // when a dial answers; zero: none pending
	txq    []byte    // octets waiting for the line
	rxq    []byte    // octets read from the line, waiting for their time
	budget float64   // octets the line may carry now, each way
	lastTx time.Time
	silent bool   // the line is cut: nothing moves either way
	failed string // why the last link failed, kept across answerAgain
	stats  Stats
	inbox  [][]byte      // the client's packets, handed to Options.IP outside the lock
	seen   session.Stats // the session's counters when misuse was last looked for
	errs   []error       // misuse recorded, oldest first (Strict)
	more   int           // misuse beyond maxErrors, counted only

	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// Stats counts what the line did.
type Stats struct {
	Corrupted, Lost uint64 // octets the noise changed or dropped
}

// New starts a peer on line (its end of a simulated serial line).
func New(line bus.UART, opts Options) *Peer {
	if !opts.Addr4.IsValid() {
		opts.Addr4 = netip.MustParseAddr("10.64.0.1")
	}
	if !opts.Peer4.IsValid() {
		opts.Peer4 = netip.MustParseAddr("10.64.0.2")
	}
	p := &Peer{
		line: line, opts: opts,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		start: time.Now(),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	p.lastTx = p.start
	p.sess = session.New(session.Config{
		Role: session.Server, Security: opts.Security, User: opts.User, Key: opts.Key, Name: opts.Name,
		MRU: opts.MRU, EchoInterval: opts.EchoInterval,
		Addr4: opts.Addr4, Peer4: opts.Peer4, DNS: opts.DNS,
		Now:   func() time.Duration { return time.Since(p.start) },
		Write: func(b []byte) { p.txq = append(p.txq, b...) },
		IP: func(pkt []byte) {
			if p.opts.IP != nil {
				p.inbox = append(p.inbox, slices.Clone(pkt))
			}
		},
	})
	if opts.Modem == nil {
		p.goOnline()
	}
	line.Notify(p.kick)
	p.wg.Add(1)
	go p.run()
	return p
}

func (p *Peer) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Peer) goOnline() {
	p.online = true
	p.sess.Open()
}

// tick is how often the line moves octets when it is paced.
const tick = time.Millisecond

func (p *Peer) run() {
	defer p.wg.Done()
	t := time.NewTimer(tick)
	defer t.Stop()
	buf := make([]byte, 4096)
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-t.C:
		}
		p.mu.Lock()
		for {
			n, _ := p.line.Read(buf)
			if n == 0 {
				break
			}
			if !p.silent {
				p.rxq = p.noise(p.rxq, buf[:n])
			}
		}
		p.moveLine()
		p.sess.Poll()
		p.answerAgain()
		p.moveLine()
		next := p.nextWake()
		inbox := p.inbox
		p.inbox = nil
		p.mu.Unlock()
		// Outside the lock: the routed side may answer at once with SendIP.
		for _, pkt := range inbox {
			p.opts.IP(pkt)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

// moveLine passes octets both ways as the baud rate allows. Called with
// mu held.
func (p *Peer) moveLine() {
	now := time.Now()
	n := len(p.rxq) + len(p.txq)
	if p.opts.Baud > 0 {
		p.budget += now.Sub(p.lastTx).Seconds() * float64(p.opts.Baud) / 10
		p.budget = min(p.budget, float64(p.opts.Baud)/10*0.05) // a line stores nothing: at most 50 ms of octets at once
		n = int(p.budget)
	}
	p.lastTx = now
	krx := min(n, len(p.rxq))
	if k := krx; k > 0 {
		in := p.rxq[:k]
		p.rxq = p.rxq[k:]
		if p.online {
			p.sess.Input(in)
			p.checkMisuse()
		} else {
			p.modemInput(in)
		}
	}
	if !p.online && !p.dialAt.IsZero() && !now.Before(p.dialAt) {
		p.dialAt = time.Time{}
		p.answerDial()
	}
	ktx := min(n, len(p.txq))
	if ktx > 0 {
		out := p.noise(nil, p.txq[:ktx])
		p.txq = p.txq[ktx:]
		if !p.silent && len(out) > 0 {
			_, _ = p.line.Write(out)
		}
	}
	// The line is full duplex: each way carries up to n octets.
	p.budget = max(p.budget-float64(max(krx, ktx)), 0)
}

// noise appends in to dst as the line delivers it.
func (p *Peer) noise(dst, in []byte) []byte {
	if p.opts.Corrupt == 0 && p.opts.Loss == 0 {
		return append(dst, in...)
	}
	for _, c := range in {
		switch r := p.rng.Float64(); {
		case r < p.opts.Loss:
			p.stats.Lost++
		case r < p.opts.Loss+p.opts.Corrupt:
			p.stats.Corrupted++
			dst = append(dst, c^byte(1+p.rng.IntN(255)))
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (p *Peer) nextWake() time.Duration {
	if len(p.rxq)+len(p.txq) > 0 {
		return tick
	}
	if !p.dialAt.IsZero() {
		return max(time.Until(p.dialAt), 0)
	}
	if d, ok := p.sess.Deadline(); ok {
		return max(d-time.Since(p.start), 0)
	}
	return time.Hour
}

// answerAgain readies the peer for the next call once its link closed
// itself (authentication refused, negotiation given up): an access server
// takes one call after another. Behind a modem, the modem hangs up and
// goes back to command mode; on a direct line LCP opens again. A link the
// client terminated waits in Stopped for its next Configure-Request
// already. Called with mu held.
func (p *Peer) answerAgain() {
	if !p.online || p.sess.Phase() != session.Dead {
		return
	}
	if st := p.sess.LCPState(); st != fsm.Closed && st != fsm.Initial {
		return
	}
	if p.opts.Modem != nil {
		p.online = false
		p.txq = append(p.txq, "\r\nNO CARRIER\r\n"...)
		return
	}
	p.failed = p.sess.Failure() // Open clears it
	p.sess.Open()
}

// modemInput is the modem in command mode: a line at a time.
func (p *Peer) modemInput(in []byte) {
	m := p.opts.Modem
	for _, c := range in {
		if c != '\r' && c != '\n' {
			if len(p.cmd) < 256 {
				p.cmd = append(p.cmd, c)
			}
			continue
		}
		line := strings.ToUpper(strings.TrimSpace(string(p.cmd)))
		p.cmd = p.cmd[:0]
		if m.Silent || !strings.HasPrefix(line, "AT") {
			continue
		}
		if strings.HasPrefix(line, "ATD") {
			p.dialAt = time.Now().Add(m.DialTime)
			continue
		}
		p.txq = append(p.txq, "\r\nOK\r\n"...)
	}
}

func (p *Peer) answerDial() {
	answer := p.opts.Modem.Answer
	if answer == "" {
		answer = "CONNECT 115200"
	}
	p.txq = append(p.txq, "\r\n"+answer+"\r\n"...)
	if strings.HasPrefix(answer, "CONNECT") {
		p.goOnline()
	}
}

// SendIP sends an IPv4 packet to the client (from the routed side).
func (p *Peer) SendIP(pkt []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.sess.SendIP(pkt)
	p.moveLine()
	if len(p.inbox) > 0 {
		p.kick() // the run loop hands them on
	}
	return err
}

// Running says whether IPCP is opened.
func (p *Peer) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sess.Running()
}

// Phase is the peer's PPP phase; Failure why its link last failed ("peer
// terminated" after a client's clean disconnect).
func (p *Peer) Phase() session.Phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sess.Phase()
}

// Failure is why the peer's link last ended ("" while it runs).
func (p *Peer) Failure() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.sess.Failure(); f != "" || p.sess.Running() {
		return f
	}
	return p.failed
}

// Cut cuts the line (true) or joins it again: while cut nothing moves
// either way, as with a cable pulled. The frame the peer was receiving
// when the line went is discarded as the line comes back, without
// counting as the client's misuse.
func (p *Peer) Cut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.silent && !cut && p.online {
		p.sess.Input([]byte{hdlc.Flag})
		p.seen = p.sess.Stats()
	}
	p.silent = cut
}

// maxErrors is how much misuse a peer keeps; beyond it, it counts.
const maxErrors = 32

// Misuse is the client's misuse of the link so far (Options.Strict),
// oldest first: each error says what the peer received and ends with the
// rule it breaks, in parentheses. Past 32 errors, the last says how many
// more there were.
func (p *Peer) Misuse() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.errs)
	if p.more > 0 {
		out = append(out, fmt.Errorf("ppp: and %d more misuse", p.more))
	}
	return out
}

// checkMisuse records what the session's counters say the client did
// wrong since the last look. Called with mu held.
func (p *Peer) checkMisuse() {
	now := p.sess.Stats()
	was := p.seen
	p.seen = now
	if !p.opts.Strict {
		return
	}
	for _, c := range []struct {
		n    uint64
		what string
		rule string
	}{
		{now.Line.BadFCS - was.Line.BadFCS, "frame(s) whose FCS did not check, on a line without noise", "RFC 1662 3.1: the FCS covers the address, control, protocol and information fields"},
		{now.Line.TooLong - was.Line.TooLong, "frame(s) longer than the MRU the peer gave", "RFC 1661 6.1: a peer may send no packet longer than the other's MRU"},
		{now.Line.Runts - was.Line.Runts, "frame(s) too short to hold a protocol and an FCS", "RFC 1662 3.1 and RFC 1661 2: a frame carries a protocol field and its FCS"},
		{now.Line.BadHdr - was.Line.BadHdr, "frame(s) with an address other than ff, a control other than 03, or an even protocol", "RFC 1662 3.1 and RFC 1661 2"},
		{now.Discarded - was.Discarded, "packet(s) of a protocol before its phase: not LCP before LCP opened, IPCP before authentication ended, or IPv4 before IPCP opened", "RFC 1661 3.3 to 3.5: such packets are discarded"},
	} {
		if c.n == 0 {
			continue
		}
		if len(p.errs) >= maxErrors {
			p.more++
			continue
		}
		p.errs = append(p.errs, fmt.Errorf("ppp: the client sent %d %s (%s)", c.n, c.what, c.rule))
	}
}

// Stats is what the line's noise did.
func (p *Peer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops the peer (without terminating: a line dropped).
func (p *Peer) Close() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	p.wg.Wait()
	p.line.Notify(nil)
}
