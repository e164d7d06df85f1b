// Package driver is nichost's WIZNET5K driver for the WIZnet W5500: an
// Ethernet controller on SPI whose socket 0 runs in MACRAW mode, so that
// raw Ethernet frames move between the wire and the host's network core.
// plugins/wiznet builds it into a WASM plugin; the host can also run it
// natively (native.Load with New, package host/native).
//
// The driver batches its SPI traffic: every host call carries several
// chip-select frames (spi_transact records with KeepCS). It takes frames to
// send in batches (guest.BatchTransmitter): the data of all that fit goes
// in one SPI transaction, and each frame then costs one host call (its
// TX_WR, its SEND and the look that shows it done); a lone received frame
// costs two host calls and a burst three for all the frames the chip
// holds, handed to the core with one rx_push_batch. It is driven by the chip's
// INTn line when the operator grants one ("int"), with a slow timer poll
// as a safety net, and by a timer poll otherwise. See plugins/wiznet/README.md
// for the chip facts, register sequences, status codes and options.
package driver

import (
	"errors"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Timing.
const (
	resetLow     = 600 * time.Microsecond  // RSTn low; the datasheet wants >= 500 us
	resetSettle  = 1500 * time.Microsecond // after RSTn high, before SPI; >= 1 ms (PLL lock)
	softResetChk = 250 * time.Microsecond  // between looks at MR.RST after a soft reset
	softResetMax = 40                      // looks before giving up (10 ms)
	linkPoll     = 50 * time.Millisecond   // PHYCFGR is read at most this often by timer polls
	partialRetry = time.Millisecond        // a record whose tail has not arrived yet
	txPoll       = 500 * time.Microsecond  // a SEND in progress while frames wait
	txTimeout    = 250 * time.Millisecond  // a SEND that never completes: reopen socket 0
	recoverAfter = time.Second             // after a failed recovery
)

// Defaults of the poll_ms option.
const (
	defaultPollNoIRQ = 5 * time.Millisecond  // no interrupt line: the only way to see frames
	defaultPollIRQ   = 50 * time.Millisecond // with INTn: the safety net for missed edges
)

// status() codes, as MicroPython's WIZNET5K reports them.
const (
	StatusLinkDown   = 0 // no link (or no chip answers)
	StatusLinkNoIf   = 1 // the PHY has a link, the interface is inactive
	StatusLinkActive = 2 // link up and the interface active
)

// Driver is the WIZNET5K driver. One value serves one plugin instance with
// one interface ("eth"); the host serialises its calls.
type Driver struct {
	env    *guest.Env
	b      *batch
	rst    guest.GPIO
	irq    guest.GPIO
	hasRst bool
	hasIRQ bool

	pollEvery time.Duration // timer poll interval
	linkEvery time.Duration // PHYCFGR read interval of timer polls
	mac       []byte
	trace     guest.Trace

	active  bool
	link    bool // PHYCFGR.LNK as last read (reported to the core while active)
	speed   int  // 10 or 100 while the link is up
	full    bool
	linkDue time.Duration // next PHYCFGR read of a timer poll
	wakeReq time.Duration // poll requested with wake_at; -1 none
	retryAt time.Duration // an earlier poll for a partial record; 0 none
	more    bool          // work was left for an immediate poll
	bad     int           // status reads in a row that did not add up
	broken  bool          // an SPI failure left the chip's state unknown
	stuck   bool          // the link came back with a SEND outstanding
	warm    bool          // a chip taken over after a fault: active(True) goes on from its pointers

	rxRD    uint16 // next record in the RX buffer (our Sn_RX_RD)
	commit  bool   // rxRD must be written and RECV issued before the next status read
	emitted bool   // the current batch carries that commit
	rxBuf   []byte
	tx      txState
	look    sendLook  // the records of a busy transmitter's host call
	blocked bool      // TransmitBatch answered busy: the host waits for a poll
	one     [1][]byte // Transmit's batch of one

	blindSend bool // deliberate misuse (NewMisusing): SENDs without looking
}

// A WIZNET5K interface is always connected: the driver has regs() (Caller) but
// no Connector or Scanner, so the SDK answers connect(), disconnect() and
// scan() with "not supported by WIZNET5K".
var (
	_ guest.Driver           = (*Driver)(nil)
	_ guest.Caller           = (*Driver)(nil)
	_ guest.BatchTransmitter = (*Driver)(nil)
)

// New returns a driver for one plugin instance.
func New() guest.Driver {
	return &Driver{wakeReq: -1}
}

// NewMisusing returns a driver that misuses the chip on purpose, for the
// test plugin that shows `nichost test` failing a driver that breaks a
// datasheet rule (plugins/wiznet/testdata/misuse). It writes the TX_WR and
// SEND of every staged frame in one host call without looking in between
// (and SENDs a lone frame twice), so it issues a SEND before it has seen
// the previous one complete: wrong on a real chip, where the first frame
// is still on the wire.
func NewMisusing() guest.Driver {
	return &Driver{wakeReq: -1, blindSend: true}
}

// Describe implements guest.Driver.
func (d *Driver) Describe() abi.Description {
	return abi.Description{
		Class: abi.ClassWIZNET5K, Name: "w5500", Version: "1",
		Interfaces: []string{"eth"},
		Buses: []abi.BusNeed{
			{Name: "spi", Kind: "spi"},
			{Name: "rst", Kind: "gpio", Optional: true},
			{Name: "int", Kind: "gpio", Optional: true},
		},
	}
}

// Start implements guest.Driver: it takes the buses, checks the options,
// releases RSTn and watches INTn.
func (d *Driver) Start(env *guest.Env) error {
	d.env = env
	spi, err := env.SPI("spi")
	if err != nil {
		return err
	}
	d.b = newBatch(spi)
	d.look.init()
	d.mac = env.MAC(0)
	d.rxBuf = make([]byte, bufSize)
	d.hasRst, d.hasIRQ = env.Granted("rst"), env.Granted("int")
	d.pollEvery = defaultPollNoIRQ
	if d.hasIRQ {
		d.pollEvery = defaultPollIRQ
	}
	opts := env.Info().Options
	for _, k := range abi.SortedKeys(opts) {
		switch k {
		case "poll_ms":
			n, err := abi.Int("options.poll_ms", opts[k])
			if err != nil {
				return err
			}
			if n < 1 || n > 60000 {
				return abi.ValueError("options.poll_ms: %d out of range 1..60000", n)
			}
			d.pollEvery = time.Duration(n) * time.Millisecond
		default:
			return abi.ValueError("options: unknown option %q (known: poll_ms)", k)
		}
	}
	d.linkEvery = max(d.pollEvery, linkPoll)
	if d.hasRst {
		if d.rst, err = env.GPIO("rst"); err != nil {
			return err
		}
		if err := d.rst.Write(true); err != nil { // the chip runs until active(True)
			return wrap("releasing RSTn", err)
		}
	}
	if d.hasIRQ {
		if d.irq, err = env.GPIO("int"); err != nil {
			return err
		}
		if err := d.irq.Watch(abi.EdgeFalling); err != nil {
			return wrap("watching INTn", err)
		}
	}
	return nil
}

func checkIface(iface int) error {
	if iface != 0 {
		return abi.ValueError("w5500 has one interface (0), not %d", iface)
	}
	return nil
}

// Active implements guest.Driver.
func (d *Driver) Active(iface int) bool { return iface == 0 && d.active }

// SetActive implements guest.Driver. active(True) resets the chip, checks
// that it is a W5500, configures socket 0 in MACRAW mode and opens it;
// frames move from then on. active(False) closes socket 0 and tells the
// core the link is down; the PHY is left alone (it keeps its link, so
// status() reads 1 with a cable in).
func (d *Driver) SetActive(iface int, up bool) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	if up == d.active {
		return nil
	}
	if !up {
		d.warm = false
		return d.deactivate()
	}
	if d.warm {
		return d.activateWarm()
	}
	return d.activateCold()
}

// activateCold is active(True) from a reset: bring-up, then frames move.
func (d *Driver) activateCold() error {
	if err := d.bringUp(); err != nil {
		return err
	}
	d.active = true
	now := d.env.Now()
	d.linkDue = now + d.linkEvery
	if d.link {
		d.reportLink()
	}
	d.wakeReq = -1
	d.arm(now)
	return nil
}

// deactivate closes socket 0 and masks the chip's interrupt.
func (d *Driver) deactivate() error {
	d.active = false
	d.env.WakeAfter(-1)
	d.wakeReq, d.retryAt, d.more, d.blocked = -1, 0, false, false
	d.commit = false
	if d.link {
		d.reportLink()
	}
	d.begin()
	d.b.write(bsbCommon, regSIMR, 0)
	d.b.write(bsbS0Reg, snCR, cmdCLOSE)
	d.b.write(bsbS0Reg, snIR, irAll)
	if dropped := d.tx.staged(); dropped > 0 {
		d.event("active(False): %d queued frames dropped", dropped)
	}
	d.tx = txState{}
	return d.run()
}

// IsConnected implements guest.Driver: the PHY's link bit, read now, while
// the interface is active.
func (d *Driver) IsConnected(iface int) bool {
	if iface != 0 || !d.active {
		return false
	}
	d.begin()
	phy := d.b.read(bsbCommon, regPHYCFGR, 1)
	if err := d.run(); err != nil {
		return false
	}
	d.setLink(phy[0])
	return d.link
}

// Status implements guest.Driver: status() is one of the Status* codes,
// from the PHY's link bit read now.
func (d *Driver) Status(iface int, param string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	if param != "" {
		return nil, abi.ValueError("unknown status parameter %q (WIZNET5K has status() only)", param)
	}
	d.begin()
	phy := d.b.read(bsbCommon, regPHYCFGR, 1)
	ver := d.b.read(bsbCommon, regVERSIONR, 1)
	if err := d.run(); err != nil || ver[0] != versionW5500 {
		return StatusLinkDown, nil // no chip: no link
	}
	if !d.active {
		if phy[0]&phyLNK != 0 {
			return StatusLinkNoIf, nil
		}
		return StatusLinkDown, nil
	}
	d.setLink(phy[0])
	if d.link {
		return StatusLinkActive, nil
	}
	return StatusLinkDown, nil
}

// setLink takes a PHYCFGR value and, while active, reports a change of
// the link to the core.
func (d *Driver) setLink(phy byte) {
	up := phy&phyLNK != 0
	if up {
		d.speed, d.full = 10, phy&phyDPX != 0
		if phy&phySPD != 0 {
			d.speed = 100
		}
	}
	if up == d.link {
		return
	}
	d.link = up
	if !d.active {
		return
	}
	if up && d.tx.busy {
		// A SEND issued while the link was down never completes: the
		// next poll reopens socket 0.
		d.stuck = true
		d.more = true
		d.rearm()
	}
	if !up && d.tx.staged() > 0 {
		d.event("link down: %d queued frames dropped", d.tx.staged())
		d.tx.dropStaged()
	}
	d.reportLink()
}

// reportLink tells the core the link state (down while inactive).
func (d *Driver) reportLink() {
	up := d.active && d.link
	if up {
		d.env.Logf(abi.LogInfo, "w5500: link up, %d Mb/s %s duplex", d.speed, duplex(d.full))
	} else {
		d.env.Logf(abi.LogInfo, "w5500: link down")
	}
	if err := d.env.SetLink(0, up, abi.LinkEthernet, mtu); err != nil {
		d.env.Logf(abi.LogWarn, "w5500: reporting the link: %v", err)
	}
}

// Poll implements guest.Driver. Every poll but one for EVENT_TX alone
// (the frames follow through Transmit) looks at socket 0: received frames
// go to the core, a finished SEND lets the next queued frame go, and timer
// polls read the link.
func (d *Driver) Poll(events abi.Event) error {
	if events&abi.EventTimer != 0 {
		d.wakeReq = -1 // the host consumed the request
	}
	if !d.active || (events == abi.EventTx && !d.blocked) {
		return nil
	}
	at := instant{env: d.env} // the clock is read when needed: a host call
	d.more = false
	if d.retryAt != 0 && at.now() >= d.retryAt {
		d.retryAt = 0
	}
	var err error
	if d.broken {
		if d.retryAt != 0 { // the last recovery failed: wait
			d.arm(at.now())
			return nil
		}
		err = d.recover(at.now())
	}
	if !d.broken {
		err = d.service(&at, events&(abi.EventTimer|abi.EventStart) != 0 && at.now() >= d.linkDue)
	}
	if !d.armed() {
		d.arm(at.now())
	}
	return err
}

// instant is the host's clock read at most once, when first needed.
type instant struct {
	env *guest.Env
	t   time.Duration
	ok  bool
}

func (i *instant) now() time.Duration {
	if !i.ok {
		i.t, i.ok = i.env.Now(), true
	}
	return i.t
}

// armed reports whether the timer poll already requested will do: one is
// pending (asked for at most pollEvery after an earlier moment, so no
// later than one asked for now) and nothing calls for an earlier one.
// Then arm need not read the clock.
func (d *Driver) armed() bool {
	return d.wakeReq >= 0 && d.retryAt == 0 && !d.tx.busy && !d.more && !d.broken && !d.blocked
}

// rearm is arm for callers that have not read the clock.
func (d *Driver) rearm() {
	if d.active && !d.armed() {
		d.arm(d.env.Now())
	}
}

// arm asks the host for the next timer poll, unless an earlier one is
// already requested (an early poll costs one status read, nothing else).
func (d *Driver) arm(now time.Duration) {
	if !d.active {
		return
	}
	next := now + d.pollEvery
	if d.retryAt != 0 {
		next = min(next, d.retryAt)
	}
	if d.tx.busy {
		if d.tx.since == unknownTime {
			d.tx.since = now
		}
		next = min(next, d.tx.since+txTimeout)
		if d.tx.staged() > 0 || d.blocked {
			next = min(next, now+txPoll)
		}
	}
	if d.more {
		next = now
	}
	if d.broken && d.retryAt != 0 {
		next = d.retryAt
	}
	if d.wakeReq < 0 || next < d.wakeReq {
		d.env.WakeAfter(max(next-now, 0))
		d.wakeReq = next
	}
}

// begin starts a batch, carrying the pending RX commit first.
func (d *Driver) begin() {
	d.b.begin()
	d.emitted = d.commit
	if d.commit {
		d.b.write16(bsbS0Reg, snRXRD, d.rxRD)
		d.b.write(bsbS0Reg, snCR, cmdRECV)
	}
}

// run makes the batch's host call.
func (d *Driver) run() error {
	err := d.b.run()
	if err == nil && d.emitted {
		d.commit = false
	}
	d.emitted = false
	return err
}

// event logs a line when config(trace=...) includes TraceEvents.
func (d *Driver) event(format string, a ...any) {
	if d.trace.Has(guest.TraceEvents) {
		d.env.Logf(abi.LogDebug, "w5500: "+format, a...)
	}
}

func duplex(full bool) string {
	if full {
		return "full"
	}
	return "half"
}

// wrap prefixes an error with what the driver was doing, keeping its kind
// and errno.
func wrap(doing string, err error) error {
	if err == nil {
		return nil
	}
	var e *abi.Error
	if errors.As(err, &e) {
		return &abi.Error{Kind: e.Kind, Errno: e.Errno, Msg: "w5500: " + doing + ": " + e.Msg}
	}
	return abi.OSError(abi.EIO, "w5500: %s: %v", doing, err)
}

// hexBytes formats b as "01 02 03".
func hexBytes(b []byte) string {
	s := ""
	for i, c := range b {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%02x", c)
	}
	return s
}
