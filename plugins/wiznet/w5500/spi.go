package w5500

import (
	"fmt"

	"github.com/nichost/nichost/host/bus"
)

// spiFrame is the state of the SPI frame in progress: one per CS assertion.
type spiFrame struct {
	n      int     // bytes clocked since Select
	hdr    [3]byte // offset (2 bytes, big-endian) and control byte
	addr   uint16  // offset of the next data byte
	kind   blockKind
	sock   int
	write  bool
	fixed  int // FDM data length (1, 2 or 4); 0 in VDM
	data   int // data bytes clocked
	extra  int // bytes clocked past an FDM frame's fixed length
	dead   string
	ignore bool     // reserved block: the data phase does nothing
	seen   []string // keys already reported in this frame
}

// once reports whether key is new in this frame, and remembers it.
func (f *spiFrame) once(key string) bool {
	for _, k := range f.seen {
		if k == key {
			return false
		}
	}
	f.seen = append(f.seen, key)
	return true
}

// fdmLen maps the OM field to the FDM data length (0: VDM).
var fdmLen = [4]int{0, 1, 2, 4}

// Select implements sim.SPIDevice: SCSn falls, a frame starts. While RSTn is
// low or before the PLL has locked the chip does not answer: every byte
// reads 0x00 and writes are lost.
func (c *Chip) Select() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Transactions++
	c.fr = spiFrame{seen: c.fr.seen[:0]}
	now := c.now()
	switch {
	case c.inReset:
		c.fr.dead = "RSTn is held low"
	case now.Before(c.pllLockAt):
		c.fr.dead = fmt.Sprintf("%v after RSTn was released, before the PLL locks (%v)", now.Sub(c.pllLockAt.Add(-pllLock)), pllLock)
	}
	if c.fr.dead != "" {
		c.misuse(ruleReset, "SPI access while %s: the chip does not answer (MISO reads 0x00, writes are lost)", c.fr.dead)
	}
}

// Deselect implements sim.SPIDevice: SCSn rises, the frame ends. A frame
// without a complete header and a data byte, an FDM frame shorter than its
// fixed length, and bytes past an FDM frame's length are misuse.
func (c *Chip) Deselect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &c.fr
	switch {
	case f.dead != "":
	case f.n < len(f.hdr):
		c.misuse(ruleFrame, "SPI frame of %d bytes ended inside the 3-byte header (offset, control)", f.n)
	case f.data == 0:
		c.misuse(ruleFrame, "SPI frame at %s ended without a data phase (N >= 1 data bytes required)", c.frameTarget())
	case f.fixed > 0 && f.data < f.fixed:
		c.misuse(ruleFDM, "FDM frame (OM=%02b, %d bytes) at %s ended after %d data bytes", f.hdr[2]&3, f.fixed, c.frameTarget(), f.data)
	}
	if f.dead == "" && f.extra > 0 {
		c.misuse(ruleFDM, "FDM frame (OM=%02b, %d bytes) at %s: %d bytes past the fixed length ignored (MISO 0x00)", f.hdr[2]&3, f.fixed, c.frameTarget(), f.extra)
	}
	f.n = 0
}

// Transfer implements sim.SPIDevice: it clocks len(w) bytes of the current
// frame. MISO carries 0x01, 0x02, 0x03 during the header, then register or
// buffer bytes for a read, 0x00 for a write (guess: the datasheet does not
// say what MISO carries while data is written).
func (c *Chip) Transfer(w, r []byte) {
	c.mu.Lock()
	c.stats.Bytes += uint64(len(w))
	c.clock(w, r)
	out, port := c.out, c.port
	c.out = nil
	c.mu.Unlock()
	c.transmit(port, out)
}

// clock runs bytes through the frame state machine. Caller holds mu.
func (c *Chip) clock(w, r []byte) {
	f := &c.fr
	for len(w) > 0 {
		if f.dead != "" {
			clear(r)
			f.n += len(w)
			return
		}
		if f.n < len(f.hdr) {
			r[0] = byte(f.n + 1)
			f.hdr[f.n] = w[0]
			f.n++
			w, r = w[1:], r[1:]
			if f.n == len(f.hdr) {
				c.decode()
			}
			continue
		}
		k := len(w)
		if f.fixed > 0 {
			if left := f.fixed - f.data; k > left {
				f.extra += k - left
				clear(r[left:])
				k = left
				w, r = w[:k], r[:k]
			}
		}
		c.data(w[:k], r[:k])
		f.data += k
		f.n += k
		w, r = w[k:], r[k:]
	}
}

// decode takes the header apart.
func (c *Chip) decode() {
	f := &c.fr
	f.addr = uint16(f.hdr[0])<<8 | uint16(f.hdr[1])
	ctl := f.hdr[2]
	bsb := ctl >> 3
	f.write = ctl&0x04 != 0
	f.fixed = fdmLen[ctl&3]
	f.kind, f.sock = decodeBSB(bsb)
	if f.kind == blockReserved {
		f.ignore = true
		c.misuse(ruleBSB, "SPI frame selects reserved block 0x%02X (control byte 0x%02X, offset 0x%04X): reads 0x00, writes ignored", bsb, ctl, f.addr)
	}
}

// frameTarget describes the frame's block and start offset for messages.
func (c *Chip) frameTarget() string {
	f := &c.fr
	start := uint16(f.hdr[0])<<8 | uint16(f.hdr[1])
	switch f.kind {
	case blockCommon:
		return commonName(start)
	case blockSocket:
		return socketName(f.sock, start)
	case blockTX:
		return fmt.Sprintf("socket %d TX buffer 0x%04X", f.sock, start)
	case blockRX:
		return fmt.Sprintf("socket %d RX buffer 0x%04X", f.sock, start)
	}
	return fmt.Sprintf("reserved block 0x%02X offset 0x%04X", f.hdr[2]>>3, start)
}

// data runs data-phase bytes: a register access per byte with auto-
// increment, or a burst into a socket buffer.
func (c *Chip) data(w, r []byte) {
	f := &c.fr
	switch {
	case f.ignore:
		clear(r)
		f.addr += uint16(len(w))
	case f.kind == blockTX || f.kind == blockRX:
		c.buffer(w, r)
	default:
		for i := range w {
			a := f.addr
			f.addr++
			switch {
			case !f.write && f.kind == blockCommon:
				r[i] = c.readCommon(a)
			case !f.write:
				r[i] = c.readSocket(f.sock, a)
			case f.kind == blockCommon:
				r[i] = 0
				c.writeCommon(a, w[i])
			default:
				r[i] = 0
				c.writeSocket(f.sock, a, w[i])
			}
		}
	}
}

// buffer reads or writes a socket's TX or RX buffer. The offset is taken
// mod the socket's buffer size, and auto-increment wraps inside the buffer.
func (c *Chip) buffer(w, r []byte) {
	f := &c.fr
	tx := f.kind == blockTX
	base, size := c.layout(f.sock, tx)
	start := f.addr
	f.addr += uint16(len(w))
	if size == 0 {
		clear(r)
		reg := uint16(snRXBUFSIZE)
		if tx {
			reg = snTXBUFSIZE
		}
		c.misuseOnce("nobuf", ruleNoBuf, "%s: the socket has no buffer (%s=%d, or the 16 KiB total is exceeded): reads 0x00, writes ignored",
			c.frameTarget(), socketReg(f.sock, reg), c.sockets[f.sock].regs[reg])
		return
	}
	mem := c.rxMem[base : base+size]
	if tx {
		mem = c.txMem[base : base+size]
	}
	if f.write {
		copyIn(mem, w, int(start))
		clear(r)
		return
	}
	copyOut(r, mem, int(start))
}

// transmit writes the frames SEND produced to the port, with no lock held.
func (c *Chip) transmit(port bus.FramePort, frames [][]byte) {
	if port == nil {
		return
	}
	for _, fr := range frames {
		if err := port.WriteFrame(fr); err != nil {
			c.log.Warn("frame port write failed", "err", err, "len", len(fr))
		}
	}
}
