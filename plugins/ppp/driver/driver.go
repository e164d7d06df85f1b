// Package driver is nichost's PPP driver: MicroPython's network.PPP over a
// granted UART. It runs an optional modem dial script (config(chat=...)),
// then PPP as a client (package session: LCP, PAP or CHAP, IPCP with DNS
// over the HDLC-like framing of package hdlc), and hands the core bare
// IPv4 packets on an IP-only link, reporting the address, the peer's and
// the DNS servers IPCP gave. plugins/ppp builds it into a WASM plugin; the
// host can also run it natively (host.LoadNative with New).
//
// Everything is driven from Poll: connect() starts the dial script or LCP
// and returns; status() and isconnected() report the progress.
package driver

import (
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/ppp/session"
)

// status() codes, MicroPython's PPP numbering (ABI.md 8.3).
const (
	StatusInactive   = 0
	StatusActive     = 1  // active, not connected and not connecting
	StatusConnecting = 3  // dialing, or PPP negotiating
	StatusConnected  = 4  // IPCP opened, an address held
	StatusFailed     = -1 // the last connect() failed: status('failure') says why
)

// eALREADY is Linux's errno for a connect() already under way.
const eALREADY = 114

// The UART bus's name (ABI.md 8.5).
const busName = "uart"

// outHigh is how many octets may wait for the UART before Transmit answers
// busy: at 115200 baud, about 0.7 s of line time.
const outHigh = 8 << 10

// readChunk is the most octets one read of the UART takes.
const readChunk = 4096

// stage is where a connect() stands.
type stage int

const (
	stageIdle    stage = iota // not connecting: never asked, disconnected, or failed
	stageDialing              // running the chat script
	stagePPP                  // PPP: from LCP to running and back to dead
)

// settings are config()'s parameters that shape the next connect().
type settings struct {
	mru          int
	accm         uint32
	echoInterval time.Duration
	echoFailures int
	addr4        netip.Addr
	chat         []chatStep
	trace        guest.Trace
}

var defaults = settings{mru: 1500, accm: 0, echoInterval: 30 * time.Second, echoFailures: 4}

// Driver is the PPP driver. One value serves one plugin instance with one
// interface ("ppp"); the host serialises its calls.
type Driver struct {
	env  *guest.Env
	uart guest.UART
	set  settings

	active   bool
	stage    stage
	sess     *session.Session
	dial     chat
	failure  string // why the last connect() failed; "" if it did not
	reported bool   // the link is reported up to the core
	out      []byte // octets waiting for the UART
	buf      []byte
}

var (
	_ guest.Driver    = (*Driver)(nil)
	_ guest.Connector = (*Driver)(nil)
	_ guest.Caller    = (*Driver)(nil)
)

// New returns a driver for one plugin instance.
func New() guest.Driver { return &Driver{set: defaults} }

// Describe implements guest.Driver.
func (d *Driver) Describe() abi.Description {
	return abi.Description{
		Class: abi.ClassPPP, Name: "ppp", Version: "1",
		Interfaces: []string{"ppp"},
		Buses:      []abi.BusNeed{{Name: busName, Kind: abi.BusUART}},
	}
}

// Start implements guest.Driver.
func (d *Driver) Start(env *guest.Env) error {
	d.env = env
	var err error
	if d.uart, err = env.UART(busName); err != nil {
		return err
	}
	d.buf = make([]byte, readChunk)
	if opts := env.Info().Options; len(opts) > 0 {
		return abi.ValueError("options: this driver has none (set mru, accm, chat, ... with config())")
	}
	return nil
}

func checkIface(iface int) error {
	if iface != 0 {
		return abi.ValueError("ppp has one interface (0), not %d", iface)
	}
	return nil
}

// Active implements guest.Driver. MicroPython's PPP has no active(); here
// it is as on the other classes: connect() needs an active interface (it
// activates one), and active(False) disconnects.
func (d *Driver) Active(iface int) bool { return iface == 0 && d.active }

// SetActive implements guest.Driver.
func (d *Driver) SetActive(iface int, up bool) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if up == d.active {
		return nil
	}
	d.active = up
	if !up {
		d.hangUp()
		d.env.WakeAfter(-1)
		return nil
	}
	d.env.WakeAfter(0) // read what the line already holds
	return nil
}

// hangUp drops the link at once, without terminating: the interface went
// inactive.
func (d *Driver) hangUp() {
	if d.sess != nil && d.sess.Phase() != session.Dead {
		d.sess.Close() // one Terminate-Request; the peer's Ack is not waited for
	}
	d.flush()
	d.stage, d.sess = stageIdle, nil
	d.sync()
}

// IsConnected implements guest.Driver: IPCP opened and an address held.
func (d *Driver) IsConnected(iface int) bool {
	return iface == 0 && d.sess != nil && d.sess.Running()
}

// Connect implements guest.Connector: connect(security=SEC_NONE,
// user=None, key=None). It starts the dial script, or LCP, and returns.
func (d *Driver) Connect(iface int, a guest.Args) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if err := a.Takes("connect", 3, "security", "user", "key"); err != nil {
		return err
	}
	sec, err := arg(a, 0, "security").Or(int64(0)).Int()
	if err != nil {
		return err
	}
	if sec < 0 || sec > 2 {
		return abi.ValueError("security: %d is not SEC_NONE (0), SEC_PAP (1) or SEC_CHAP (2)", sec)
	}
	user, err := optStr(arg(a, 1, "user"))
	if err != nil {
		return err
	}
	key, err := optStr(arg(a, 2, "key"))
	if err != nil {
		return err
	}
	if sec != 0 && user == "" {
		return abi.ValueError("connect: security %s needs a user", session.Security(sec))
	}
	if len(user) > 255 || len(key) > 255 {
		return abi.ValueError("connect: user and key are at most 255 bytes each (PAP's fields)")
	}
	if d.stage == stagePPP && d.sess.Phase() == session.Terminate {
		// A disconnect() still waiting for the peer's Terminate-Ack: the
		// new connection's Configure-Request renegotiates with the peer.
		d.stage = stageIdle
	}
	if d.stage != stageIdle {
		return abi.OSError(eALREADY, "connect: already connecting or connected (disconnect() first)")
	}
	d.active = true
	d.failure = ""
	d.sess = session.New(session.Config{
		Role: session.Client, Security: session.Security(sec), User: user, Key: key,
		MRU: d.set.mru, ACCM: d.set.accm, EchoInterval: d.set.echoInterval, EchoFailures: d.set.echoFailures,
		Addr4: d.set.addr4,
		Now:   d.env.Now,
		Write: func(b []byte) { d.out = append(d.out, b...) },
		IP:    d.receiveIP,
	})
	if len(d.set.chat) > 0 {
		d.stage = stageDialing
		d.dial = chat{steps: d.set.chat}
		d.dial.start(d.env.Now())
		d.event("dialing (%d chat steps)", len(d.set.chat))
	} else {
		d.startPPP()
	}
	d.env.WakeAfter(0)
	return nil
}

// arg is a connect() argument given by position or by keyword.
func arg(a guest.Args, i int, name string) guest.Arg {
	if v := a.Key(name); v.Given {
		return v
	}
	return a.At(i, name)
}

// optStr reads a str argument that may be None or missing ("").
func optStr(v guest.Arg) (string, error) {
	if x, _ := v.Any(); x == nil {
		return "", nil
	}
	return v.Str()
}

func (d *Driver) startPPP() {
	d.stage = stagePPP
	d.sess.Open()
	d.event("LCP: negotiating")
}

// Disconnect implements guest.Connector: LCP terminates (the peer is told),
// and the link goes down.
func (d *Driver) Disconnect(iface int) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	switch d.stage {
	case stageDialing:
		d.stage = stageIdle
	case stagePPP:
		d.sess.Close()
	}
	d.sync()
	d.flush()
	d.arm()
	return nil
}

// Status implements guest.Driver: status() as MicroPython's PPP numbers
// it; status('phase') is the PPP phase ("dead", "dial", "establish",
// "authenticate", "network", "running", "terminate"), status('failure')
// why the last connect() failed (None if it did not).
func (d *Driver) Status(iface int, param string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	switch param {
	case "":
		switch {
		case !d.active:
			return StatusInactive, nil
		case d.IsConnected(0):
			return StatusConnected, nil
		case d.lastFailure() != "":
			// Failed, though LCP may still be terminating.
			return StatusFailed, nil
		case d.stage != stageIdle:
			return StatusConnecting, nil
		}
		return StatusActive, nil
	case "phase":
		switch {
		case d.stage == stageDialing:
			return "dial", nil
		case d.sess == nil:
			return session.Dead.String(), nil
		}
		return d.sess.Phase().String(), nil
	case "failure":
		if f := d.lastFailure(); f != "" {
			return f, nil
		}
		return nil, nil
	}
	return nil, abi.ValueError("unknown status parameter %q (known: phase, failure)", param)
}

// Poll implements guest.Driver: it reads the line, runs the dial script or
// PPP's timers, and sends what waits.
func (d *Driver) Poll(events abi.Event) error {
	var err error
	if d.active {
		err = d.readLine()
		if d.stage == stageDialing {
			d.advanceDial(nil)
		}
		if d.stage == stagePPP {
			d.sess.Poll()
		}
		d.sync()
		d.flush()
	}
	d.arm()
	return err
}

// readLine feeds what the UART holds to the dial script or to PPP.
func (d *Driver) readLine() error {
	for range 16 { // at most 64 KiB a poll; the rest waits for the next
		n, err := d.uart.Read(d.buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		switch d.stage {
		case stageDialing:
			d.advanceDial(d.buf[:n])
		case stagePPP:
			d.sess.Input(d.buf[:n])
		}
		// Idle: line noise, or a peer talking to a link that is down.
	}
	d.env.WakeAfter(0) // more is waiting
	return nil
}

func (d *Driver) advanceDial(in []byte) {
	send, done, err := d.dial.advance(in, d.env.Now())
	d.out = append(d.out, send...)
	switch {
	case err != nil:
		d.fail(err.Error())
	case done:
		d.event("dialed")
		d.startPPP()
	}
}

// sync tells the core what changed: the link up with its addresses once
// IPCP opened, down when it closed; a link that died records why.
func (d *Driver) sync() {
	running := d.sess != nil && d.sess.Running()
	switch {
	case running && !d.reported:
		info := d.sess.Info()
		m := map[string]any{"addr4": info.Addr4.String()}
		if info.Peer4.IsValid() {
			m["peer4"] = info.Peer4.String()
		}
		if len(info.DNS) > 0 {
			dns := make([]any, len(info.DNS))
			for i, a := range info.DNS {
				dns[i] = a.String()
			}
			m["dns"] = dns
		}
		if err := d.env.Report(0, m); err != nil {
			d.env.Logf(abi.LogWarn, "ppp: reporting %v: %v", m, err)
		}
		if err := d.env.SetLink(0, true, abi.LinkIP, info.MTU); err != nil {
			d.env.Logf(abi.LogWarn, "ppp: reporting link up: %v", err)
		}
		d.reported = true
		d.env.Logf(abi.LogInfo, "ppp: connected: %v, peer %v, DNS %v, MTU %d", info.Addr4, info.Peer4, info.DNS, info.MTU)
	case !running && d.reported:
		if err := d.env.SetLink(0, false, abi.LinkIP, 0); err != nil {
			d.env.Logf(abi.LogWarn, "ppp: reporting link down: %v", err)
		}
		d.reported = false
		d.env.Logf(abi.LogInfo, "ppp: link down")
	}
	if d.stage == stagePPP && d.sess.Phase() == session.Dead {
		d.stage = stageIdle
		if why := d.sess.Failure(); why != "" {
			d.fail(why)
		} else {
			d.event("disconnected")
		}
	}
}

// lastFailure is why the last connect() failed, as soon as it is known:
// the link may still be terminating.
func (d *Driver) lastFailure() string {
	if d.failure == "" && d.stage == stagePPP {
		return d.sess.Failure()
	}
	return d.failure
}

// fail ends a connect() for a reason status('failure') reports.
func (d *Driver) fail(why string) {
	d.stage = stageIdle
	d.failure = why
	d.env.Logf(abi.LogWarn, "ppp: connection failed: %s", why)
}

func (d *Driver) event(format string, a ...any) {
	if d.set.trace.Has(guest.TraceEvents) {
		d.env.Logf(abi.LogDebug, "ppp: "+format, a...)
	}
}

// flush sends what waits for the UART, as much as it takes now.
func (d *Driver) flush() {
	if len(d.out) == 0 {
		return
	}
	n, err := d.uart.Write(d.out)
	if err != nil && !errors.Is(err, io.ErrShortWrite) {
		d.env.Logf(abi.LogWarn, "ppp: uart: %v (%d octets lost)", err, len(d.out))
		n = len(d.out)
	}
	d.out = append(d.out[:0], d.out[n:]...)
}

// arm asks the host for the next poll: at once while output waits, else
// at the next timer of the dial script or PPP.
func (d *Driver) arm() {
	if !d.active {
		return
	}
	if len(d.out) > 0 {
		d.env.WakeAfter(time.Millisecond)
		return
	}
	now := d.env.Now()
	due, ok := time.Duration(0), false
	switch d.stage {
	case stageDialing:
		due, ok = d.dial.due, true
	case stagePPP:
		due, ok = d.sess.Deadline()
	}
	if ok {
		d.env.WakeAfter(max(due-now, 0))
	}
}

// receiveIP hands a packet from the peer to the core.
func (d *Driver) receiveIP(pkt []byte) {
	if d.set.trace.Has(guest.TraceRx) {
		d.env.LogFrame(d.set.trace, "ppp", "rx", pkt)
	}
	if err := d.env.Deliver(0, pkt); err != nil {
		d.env.Logf(abi.LogWarn, "ppp: delivering %d octets: %v", len(pkt), err)
	}
}

// Transmit implements guest.Driver: one IPv4 packet to the peer.
func (d *Driver) Transmit(iface int, pkt []byte) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if !d.IsConnected(0) {
		return abi.OSError(abi.EAGAIN, "ppp: not connected")
	}
	if len(pkt) == 0 || pkt[0]>>4 != 4 {
		return abi.OSError(abi.EINVAL, "ppp: only IPv4 is carried (IPV6CP is not negotiated)")
	}
	if len(d.out) > outHigh {
		return guest.ErrBusy // the line is behind; the host offers it again
	}
	if err := d.sess.SendIP(pkt); err != nil {
		if errors.Is(err, session.ErrTooBig) {
			return abi.OSError(abi.EMSGSIZE, "ppp: %d octets, the peer's MRU is %d", len(pkt), d.sess.Info().MTU)
		}
		return abi.OSError(abi.EAGAIN, "ppp: %v", err)
	}
	if d.set.trace.Has(guest.TraceTx) {
		d.env.LogFrame(d.set.trace, "ppp", "tx", pkt)
	}
	d.flush()
	if len(d.out) > 0 {
		d.arm()
	}
	return nil
}

// Call implements guest.Caller: poll() is MicroPython's, for parity; the
// host polls the driver itself, so it only runs a poll now.
func (d *Driver) Call(iface int, name string, a guest.Args) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if name != "poll" {
		return nil, guest.NoMethod(abi.ClassPPP, name)
	}
	if err := a.Takes("poll", 0); err != nil {
		return nil, err
	}
	return nil, d.Poll(abi.EventTimer)
}
