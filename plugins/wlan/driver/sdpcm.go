package driver

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nichost/nichost/abi"
)

// SDPCM, CDC and BDC framing (fact sheet 4) and the control channel: one
// ioctl outstanding at a time, matched to its reply by the CDC request id,
// driven across polls.

const (
	sdpcmHeader  = 12
	sdpcmDataHdr = 14 // host TX data: 12 + 2 pad bytes
	cdcHeader    = 16
	bdcHeader    = 4
	bdcVersion2  = 0x20

	chanControl = 0
	chanEvent   = 1
	chanData    = 2

	cdcFlagSet   = 0x0002
	cdcFlagError = 0x0001
	cdcIfShift   = 12

	bcmeNotFound = -30

	maxRxFrame  = 2047 // the status word's length field
	maxTxFrame  = 1514 // an Ethernet frame without FCS
	rxPerPoll   = 64   // F2 frames read in one service; more: the next poll comes at once
	ioctlExpiry = time.Second
)

// WLC ioctl commands (fact sheet 5.1).
const (
	wlcUp         = 2
	wlcSetInfra   = 20
	wlcSetAuth    = 22
	wlcGetBSSID   = 23
	wlcSetSSID    = 26
	wlcGetChannel = 29
	wlcSetChannel = 30
	wlcSetKey     = 45
	wlcDisassoc   = 52
	wlcSetAntdiv  = 64
	wlcSetPM      = 86
	wlcSetGMode   = 110
	wlcGetRSSI    = 127
	wlcGetAssoc   = 159 // WLC_GET_ASSOCLIST
	wlcSetWsec    = 134
	wlcSetBand    = 142
	wlcSetWPAAuth = 165
	wlcGetVar     = 262
	wlcSetVar     = 263
	wlcSetWsecPMK = 268
)

// ioctl is one control request: a WLC command or an iovar.
type ioctl struct {
	name    string // for messages: "WLC_UP", "clmload"
	cmd     uint32
	set     bool
	iface   int // the interface (CDC flags bits 15:12): 0 the station, 1 the access point
	payload []byte
	delay   time.Duration // wait this long, once it heads the queue, before sending
	// done, if set, gets the reply (status 0) or the error; a nil done
	// logs an error.
	done func(data []byte, err error)
	// apStart marks the access point's start sequence: a restart drops
	// what of it is still queued.
	apStart bool

	id       uint16
	sent     bool
	sentAt   time.Duration
	finished bool
	reply    []byte
	status   int32 // the firmware's status (BCME code), 0 on success
	err      error
}

// wlc is an ioctl of command cmd with a u32 argument (set) or none.
func wlc(name string, cmd uint32, set bool, arg ...uint32) *ioctl {
	var p []byte
	for _, a := range arg {
		p = binary.LittleEndian.AppendUint32(p, a)
	}
	return &ioctl{name: name, cmd: cmd, set: set, payload: p}
}

// iovarSet is a SET of iovar name to value.
func iovarSet(name string, value []byte) *ioctl {
	p := append([]byte(name), 0)
	return &ioctl{name: name, cmd: wlcSetVar, set: true, payload: append(p, value...)}
}

// iovarU32 is a SET of iovar name to the u32s vs (a bsscfg: iovar's
// first is the bsscfg index).
func iovarU32(name string, vs ...uint32) *ioctl {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return iovarSet(name, b)
}

// iovarGet is a GET of iovar name with room for n bytes of its value.
func iovarGet(name string, n int) *ioctl {
	p := append([]byte(name), 0)
	return &ioctl{name: name, cmd: wlcGetVar, payload: append(p, make([]byte, n)...)}
}

// ctl is the control channel's state.
type ctl struct {
	seq    byte // the next SDPCM sequence number
	credit byte // the chip's last bus data credit: sequence numbers below it may go
	nextID uint16
	queue  []*ioctl
	cur    *ioctl        // sent, reply not yet in
	holdAt time.Duration // the queue's head waits until then (its delay)
}

func (c *ctl) reset() { *c = ctl{credit: 1, nextID: 1} }

// window is how many frames the chip's credit lets go now.
func (c *ctl) window() int {
	if w := c.credit - c.seq; w&0x80 == 0 {
		return int(w)
	}
	return 0
}

// hasCredit reports whether one more frame may go.
func (c *ctl) hasCredit() bool { return c.window() > 0 }

// dataCredit reports whether a data frame may go: the last frame of the
// window is kept for the control channel, so that data never leaves it
// without a way to ask (the reply of an ioctl carries the next credit).
func (c *ctl) dataCredit() bool { return c.window() > 1 }

// pokeCredit asks the chip for credit when data has used the window: a
// small GET whose reply carries the chip's current credit. The chip
// advertises credit only in the frames it sends, and a station that only
// sends (a burst of datagrams) would get none otherwise.
func (d *Driver) pokeCredit() {
	if d.ctl.cur != nil || len(d.ctl.queue) > 0 || !d.chipUp {
		return // a reply is coming anyway
	}
	io := iovarGet("bus:txglom", 4)
	io.done = func([]byte, error) {}
	d.enqueue(io)
	if err := d.pump(d.env.Now()); err != nil {
		d.env.Logf(abi.LogWarn, "cyw43439: %v", err)
	}
}

// takeCredit takes the credit an RX frame carries.
func (c *ctl) takeCredit(credit byte) {
	if d := credit - c.seq; d&0x80 == 0 {
		c.credit = credit
	}
}

// enqueue adds io to the control queue.
func (d *Driver) enqueue(ios ...*ioctl) { d.ctl.queue = append(d.ctl.queue, ios...) }

// pump sends the queue's head when no ioctl is outstanding, its delay has
// passed and the chip has credit for it.
func (d *Driver) pump(now time.Duration) error {
	c := &d.ctl
	if c.cur != nil && now-c.cur.sentAt > ioctlExpiry {
		io := c.cur
		c.cur = nil
		d.finish(io, nil, abi.OSError(abi.ETIMEDOUT, "cyw43439: %s: no reply from the firmware in %v", io.name, ioctlExpiry))
	}
	if c.cur != nil || len(c.queue) == 0 {
		return nil
	}
	io := c.queue[0]
	if io.delay > 0 {
		if c.holdAt == 0 {
			c.holdAt = now + io.delay
		}
		if now < c.holdAt {
			return nil
		}
	}
	if !c.hasCredit() {
		return nil
	}
	if !d.f2Ready() {
		return nil
	}
	c.queue = c.queue[1:]
	c.holdAt = 0
	io.id = c.nextID
	c.nextID++
	f := make([]byte, sdpcmHeader+cdcHeader+len(io.payload))
	putSDPCM(f, chanControl, sdpcmHeader)
	binary.LittleEndian.PutUint32(f[sdpcmHeader:], io.cmd)
	binary.LittleEndian.PutUint32(f[sdpcmHeader+4:], uint32(len(io.payload)))
	flags := uint16(io.iface) << cdcIfShift
	if io.set {
		flags |= cdcFlagSet
	}
	binary.LittleEndian.PutUint16(f[sdpcmHeader+8:], flags)
	binary.LittleEndian.PutUint16(f[sdpcmHeader+10:], io.id)
	copy(f[sdpcmHeader+cdcHeader:], io.payload)
	io.sentAt, io.sent = now, true
	c.cur = io
	if err := d.sendF2(f); err != nil {
		c.cur = nil
		d.finish(io, nil, err)
		return err
	}
	return nil
}

// putSDPCM fills f's SDPCM header for a frame of len(f) bytes on channel
// ch (the sequence number is set when it is sent).
func putSDPCM(f []byte, ch byte, hdrLen int) {
	n := uint16(len(f))
	binary.LittleEndian.PutUint16(f[0:], n)
	binary.LittleEndian.PutUint16(f[2:], ^n)
	f[5] = ch
	f[6] = 0
	f[7] = byte(hdrLen)
}

// f2Ready reports whether the chip takes an F2 write now, from the last
// status word, reading F0 status once if that did not say so.
func (d *Driver) f2Ready() bool {
	if d.g.statusOK && d.g.status&stF2RxReady != 0 {
		return true
	}
	d.g.begin()
	d.g.read(fnBus, f0Status, 4)
	if err := d.g.run(); err != nil {
		return false
	}
	return d.g.status&stF2RxReady != 0
}

// sendF2 sends one SDPCM frame with the next sequence number.
func (d *Driver) sendF2(f []byte) error {
	f[4] = d.ctl.seq
	if n := unitLen(len(f)); n != len(f) {
		f = append(f, make([]byte, n-len(f))...)
	}
	d.g.begin()
	d.g.write(fnWLAN, 0, f)
	err := d.g.run()
	d.ctl.seq++
	return err
}

// finish completes io with a reply or an error.
func (d *Driver) finish(io *ioctl, data []byte, err error) {
	io.finished, io.reply, io.err = true, data, err
	if io.done != nil {
		io.done(data, err)
		return
	}
	if err != nil {
		d.env.Logf(abi.LogWarn, "cyw43439: %v", err)
	}
}

// service reads what the chip holds: F0 interrupt status, then every F2
// frame the status word announces, and clears the interrupt. It reports
// whether frames are left for the next poll.
func (d *Driver) service() (bool, error) {
	g := d.g
	g.begin()
	is := g.read(fnBus, f0IntStatus, 2)
	if err := g.run(); err != nil {
		return false, err
	}
	intr := le16(is)
	if intr == 0xFFFF { // nothing drives MISO: the chip is off
		return false, abi.OSError(abi.EIO, "cyw43439: the chip does not answer (interrupt status reads 0xFFFF)")
	}
	if intr&intErrors != 0 {
		d.event("interrupt status 0x%04x: bus error bits", intr)
	}
	frames := 0
	for {
		for g.status&stF2PktAvail != 0 && g.status != 0xFFFFFFFF && frames < rxPerPoll {
			n := int(g.status>>stF2LenShift) & stF2LenMask
			frames++
			if n < sdpcmHeader {
				// A length the frame cannot have: drop it (fact sheet 7).
				g.begin()
				g.write8(fnBackplane, f1FrameCtrl, 0x01)
				if err := g.run(); err != nil {
					return false, err
				}
				continue
			}
			g.begin()
			buf := g.read(fnWLAN, 0, n)
			if err := g.run(); err != nil {
				return false, err
			}
			d.rxFrame(buf)
		}
		if intr == 0 || frames >= rxPerPoll {
			break
		}
		g.begin()
		g.write16(fnBus, f0IntStatus, intr) // write 1 to clear
		if err := g.run(); err != nil {
			return false, err
		}
		intr = 0
		if g.status&stF2PktAvail == 0 {
			break
		}
	}
	return g.status&stF2PktAvail != 0 && g.status != 0xFFFFFFFF, nil
}

// rxFrame takes one SDPCM frame apart.
func (d *Driver) rxFrame(f []byte) {
	if len(f) < sdpcmHeader {
		return
	}
	n := int(le16(f))
	if uint16(n)^le16(f[2:]) != 0xFFFF || n < sdpcmHeader || n > len(f) {
		d.event("dropped an F2 frame with a bad SDPCM length (%d, ~%d, %d bytes read)", n, le16(f[2:]), len(f))
		return
	}
	f = f[:n]
	ch := f[5] & 0x0F
	hdr := int(f[7])
	if ch < 3 {
		d.ctl.takeCredit(f[9])
	}
	if hdr < sdpcmHeader || hdr > n {
		return
	}
	switch ch {
	case chanControl:
		d.rxControl(f[hdr:])
	case chanEvent:
		if p, ok := bdcPayload(f[hdr:]); ok {
			d.rxEvent(p)
		}
	case chanData:
		if p, ok := bdcPayload(f[hdr:]); ok {
			d.rxData(f[hdr+2], p) // BDC flags2: the interface
		}
	}
}

// bdcPayload is what follows a BDC header and its data offset.
func bdcPayload(b []byte) ([]byte, bool) {
	if len(b) < bdcHeader {
		return nil, false
	}
	off := bdcHeader + 4*int(b[3])
	if off > len(b) {
		return nil, false
	}
	return b[off:], true
}

// rxControl matches a CDC reply to the outstanding ioctl.
func (d *Driver) rxControl(b []byte) {
	if len(b) < cdcHeader {
		return
	}
	id := le16(b[10:])
	io := d.ctl.cur
	if io == nil || io.id != id {
		d.event("a control reply with id %d matches no request: dropped", id)
		return
	}
	d.ctl.cur = nil
	n := min(int(le32(b[4:])), len(b)-cdcHeader)
	data := append([]byte(nil), b[cdcHeader:cdcHeader+n]...)
	status := int32(le32(b[12:]))
	flags := le16(b[8:])
	io.status = status
	if status != 0 || flags&cdcFlagError != 0 {
		d.finish(io, data, abi.OSError(abi.EIO, "cyw43439: %s: the firmware answered status %d%s", io.name, status, bcmeName(status)))
		return
	}
	d.finish(io, data, nil)
}

// bcmeName names a few BCME codes for messages.
func bcmeName(status int32) string {
	switch status {
	case -1:
		return " (BCME_ERROR)"
	case -2:
		return " (BCME_BADARG)"
	case -4:
		return " (BCME_NOTUP)"
	case -17:
		return " (BCME_NOTASSOCIATED)"
	case -23:
		return " (BCME_UNSUPPORTED)"
	case bcmeNotFound:
		return " (BCME_NOTFOUND)"
	}
	return ""
}

// dataFrame builds the F2 frame carrying Ethernet frame e (fact sheet 7)
// for interface iface (BDC flags2: 0 the station, 1 the access point).
func dataFrame(dst, e []byte, iface int) []byte {
	n := sdpcmDataHdr + bdcHeader + len(e)
	f := dst[:unitLen(n)]
	clear(f[:sdpcmDataHdr+bdcHeader])
	f = f[:n]
	putSDPCM(f, chanData, sdpcmDataHdr)
	f[sdpcmDataHdr] = bdcVersion2
	f[sdpcmDataHdr+2] = byte(iface)
	copy(f[sdpcmDataHdr+bdcHeader:], e)
	return f
}

func (io *ioctl) String() string { return fmt.Sprintf("%s (cmd %d)", io.name, io.cmd) }
