package hdlc

import (
	"encoding/binary"
	"hash/crc32"
)

// Receive is how frames are received: what this end asked the peer for.
type Receive struct {
	// ACCM names the control characters this end asked the peer to
	// escape; one that arrives unescaped was put there by equipment on
	// the line (XON and XOFF from a modem) and is removed (RFC 1662 4.2).
	ACCM  uint32
	FCS32 bool // the peer sends a 32-bit FCS
	// MRU is the most information octets a frame may carry; a longer one
	// is dropped. 0 is 1500, LCP's default.
	MRU int
}

// DefaultReceive is how frames are received before LCP has negotiated
// anything.
var DefaultReceive = Receive{ACCM: DefaultACCM}

// Stats counts what a Decoder dropped and passed.
type Stats struct {
	Frames  uint64 // frames passed on
	BadFCS  uint64 // frames whose FCS did not check
	Aborted uint64 // frames ended by 7d 7e (RFC 1662 4.3)
	TooLong uint64 // frames longer than the MRU allows
	Runts   uint64 // frames too short to hold a protocol and an FCS
	BadHdr  uint64 // frames with an address other than ff, a control other than 03, or an even protocol
}

// Decoder takes a serial line's octets in any pieces and finds the frames
// in them. It holds one frame's worth of octets; the zero value is not
// usable: make one with NewDecoder.
type Decoder struct {
	r       Receive
	buf     []byte // the frame so far, unstuffed
	escaped bool   // the last octet was 7d
	over    bool   // the frame outgrew buf: it is dropped at its flag
	started bool   // a flag was seen: octets before the first flag are line noise
	stats   Stats
}

// overhead is the most a frame holds besides its information: address,
// control, a two-octet protocol and a four-octet FCS.
const overhead = 2 + 2 + 4

// NewDecoder makes a decoder for frames received as r says.
func NewDecoder(r Receive) *Decoder {
	d := &Decoder{}
	d.SetReceive(r)
	return d
}

// SetReceive changes how the next frames are received (after LCP opened,
// or when it went down again). A frame half received is dropped.
func (d *Decoder) SetReceive(r Receive) {
	if r.MRU <= 0 {
		r.MRU = 1500
	}
	d.r = r
	if need := r.MRU + overhead; cap(d.buf) < need {
		d.buf = make([]byte, 0, need)
	}
	d.buf, d.escaped, d.over = d.buf[:0], false, false
}

// Stats is what the decoder counted so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Write feeds octets received on the line; emit is called with each good
// frame's protocol and information, in order. info is only valid during
// the call.
func (d *Decoder) Write(b []byte, emit func(proto uint16, info []byte)) {
	for _, c := range b {
		switch {
		case c == Flag:
			if d.escaped {
				d.stats.Aborted++ // 7d 7e: the sender aborted the frame
			} else if d.started {
				d.end(emit)
			}
			d.started, d.buf, d.escaped, d.over = true, d.buf[:0], false, false
		case !d.started:
			// Before the first flag: the tail of a frame or line noise.
		case c == Escape:
			d.escaped = true
		case c < 0x20 && d.r.ACCM&(1<<c) != 0:
			// Inserted on the line: removed before the FCS (RFC 1662 4.2).
		default:
			if d.escaped {
				c ^= 0x20
				d.escaped = false
			}
			if len(d.buf) == cap(d.buf) {
				d.over = true
				continue
			}
			d.buf = append(d.buf, c)
		}
	}
}

// end checks the frame in buf at its closing flag and passes it on.
func (d *Decoder) end(emit func(uint16, []byte)) {
	f := d.buf
	if len(f) == 0 {
		return // back-to-back flags: no frame (RFC 1662 4.3)
	}
	if d.over {
		d.stats.TooLong++
		return
	}
	fcsLen := 2
	if d.r.FCS32 {
		fcsLen = 4
	}
	if len(f) < fcsLen+1 {
		d.stats.Runts++
		return
	}
	if d.r.FCS32 {
		if crc32.Update(0, crc32.IEEETable, f) != FCS32Good {
			d.stats.BadFCS++
			return
		}
	} else if FCS16(FCS16Init, f) != FCS16Good {
		d.stats.BadFCS++
		return
	}
	f = f[:len(f)-fcsLen]
	// The address and control fields are there unless compressed away; a
	// receiver takes both forms (RFC 1661 6.6).
	if len(f) >= 2 && f[0] == Address {
		if f[1] != Control {
			d.stats.BadHdr++
			return
		}
		f = f[2:]
	}
	if len(f) == 0 {
		d.stats.Runts++
		return
	}
	var proto uint16
	if f[0]&1 != 0 { // a compressed protocol: one odd octet (RFC 1661 6.5)
		proto, f = uint16(f[0]), f[1:]
	} else {
		if len(f) < 2 || f[1]&1 == 0 {
			d.stats.BadHdr++ // a protocol's last octet is odd
			return
		}
		proto, f = binary.BigEndian.Uint16(f), f[2:]
	}
	if len(f) > d.r.MRU {
		d.stats.TooLong++
		return
	}
	d.stats.Frames++
	emit(proto, f)
}
