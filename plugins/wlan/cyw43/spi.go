package cyw43

import (
	"encoding/binary"
	"fmt"
)

// busState is the gSPI block: the F0 registers and the word mode in force.
type busState struct {
	f0        [f0Size]byte // plain storage; 0x04..0x17 are computed
	intLatch  uint16       // interrupt status bits set and not yet cleared
	intEnable uint16
	word32    bool // the mode in force for the next transaction
	bigEnd    bool
	statusOn  bool
	selected  bool
}

func (b *busState) reset() {
	*b = busState{}
}

// wireMode is how a unit's bytes b0 b1 b2 b3 appear on the wire.
type wireMode uint8

const (
	mode16   wireMode = iota // b1 b0 b3 b2 (power-up)
	mode32LE                 // b3 b2 b1 b0
	mode32BE                 // b0 b1 b2 b3
)

func (m wireMode) String() string {
	switch m {
	case mode32LE:
		return "32-bit little-endian"
	case mode32BE:
		return "32-bit big-endian"
	}
	return "16-bit"
}

// permute turns wire bytes into unit bytes (b0 first) or back, in place,
// unit by unit: every mode's permutation is its own inverse.
func permute(b []byte, m wireMode) {
	for i := 0; i+4 <= len(b); i += 4 {
		u := b[i : i+4]
		switch m {
		case mode16:
			u[0], u[1], u[2], u[3] = u[1], u[0], u[3], u[2]
		case mode32LE:
			u[0], u[1], u[2], u[3] = u[3], u[2], u[1], u[0]
		}
	}
}

// txn is the gSPI transaction in progress: one per CS assertion.
type txn struct {
	dead    bool // chip off: nothing is driven, nothing is taken
	mode    wireMode
	status  bool // a trailing status word follows the data
	pos     int  // bytes clocked since Select
	cmdWire [4]byte

	decoded bool
	cmd     uint32
	write   bool
	fn      int
	addr    uint32
	n       int // byte count (0 in the command means 2048)
	units   int
	dataOff int // offset of the first data byte (4, or 8 for F1 reads)
	dataEnd int
	end     int // dataEnd plus the status word, if any

	rdata  []byte // read data in wire order
	wdata  []byte // write data as clocked (wire order)
	done   bool   // write applied
	stBits uint32 // status bits of this transaction (underflow, overflow, no data)
	stWire [4]byte
	stSet  bool
	past   int      // bytes clocked past the end
	seen   []string // misuse keys already reported in this transaction
}

// once reports whether key is new in this transaction, and remembers it.
func (t *txn) once(key string) bool {
	for _, k := range t.seen {
		if k == key {
			return false
		}
	}
	t.seen = append(t.seen, key)
	return true
}

// Select implements sim.SPIDevice: CS falls, a transaction starts in the
// mode the last one left.
func (c *Chip) Select() {
	c.mu.Lock()
	defer c.unlock()
	c.stats.Transactions++
	c.tx = txn{rdata: c.tx.rdata[:0], wdata: c.tx.wdata[:0], seen: c.tx.seen[:0]}
	if !c.powered {
		c.tx.dead = true
		c.misuse(rulePower, "gSPI transaction while WL_REG_ON is low: the chip is off (MISO reads 0xFF, writes are lost)")
		return
	}
	c.bus.selected = true
	c.tx.mode = mode16
	if c.bus.word32 {
		c.tx.mode = mode32LE
		if c.bus.bigEnd {
			c.tx.mode = mode32BE
		}
	}
	c.tx.status = c.bus.statusOn
	c.updateIRQ()
}

// Transfer implements sim.SPIDevice: it clocks len(w) bytes of the current
// transaction. The chip drives MISO during the F1 pad, read data and the
// status word; elsewhere r keeps the bus's 0xFF.
func (c *Chip) Transfer(w, r []byte) {
	c.mu.Lock()
	defer c.unlock()
	c.stats.Bytes += uint64(len(w))
	t := &c.tx
	if t.dead {
		t.pos += len(w)
		return
	}
	for i := range w {
		c.clock(w[i], &r[i])
	}
}

// Deselect implements sim.SPIDevice: CS rises, the transaction ends. A
// bus control write takes effect here.
func (c *Chip) Deselect() {
	c.mu.Lock()
	defer c.unlock()
	t := &c.tx
	if t.dead {
		return
	}
	switch {
	case t.pos < 4:
		c.misuse(ruleShape, "gSPI transaction of %d bytes ended inside the 4-byte command word", t.pos)
	case t.pos < t.dataEnd:
		what := "read"
		if t.write {
			what = "write (ignored)"
		}
		c.misuse(ruleShape, "%s %s of %d bytes at 0x%05X ended after %d of its %d data bytes", funcName(t.fn), what, t.n, t.addr, max(0, t.pos-t.dataOff), t.units*unitBytes)
	}
	// A host whose bus always clocks a status word after the data
	// (embassy's and soypat's PIO buses do, in 16-bit mode too) reads 4
	// bytes of 0xFF when status is off: harmless, not misuse.
	if t.past > 0 && (t.status || t.past > unitBytes) {
		c.misuse(ruleShape, "%s %s of %d bytes at 0x%05X: %d bytes clocked past its end (command, data%s: %d bytes); MISO reads 0xFF there",
			funcName(t.fn), rw(t.write), t.n, t.addr, t.past, map[bool]string{true: ", status word", false: ""}[t.status], t.end)
	}
	c.bus.selected = false
	prev := c.bus.word32
	c.bus.word32 = c.bus.f0[regBusCtrl]&busWord32 != 0
	c.bus.bigEnd = c.bus.f0[regBusCtrl]&busBigEndian != 0
	c.bus.statusOn = c.bus.f0[regStatusEn]&statusEnable != 0
	if c.bus.word32 != prev {
		m := mode16
		if c.bus.word32 {
			m = mode32LE
			if c.bus.bigEnd {
				m = mode32BE
			}
		}
		c.log.Info("gSPI mode switch", "mode", m.String(), "status", c.bus.statusOn)
	}
	c.updateIRQ()
}

func funcName(fn int) string {
	return [...]string{"F0", "F1", "F2", "F3"}[fn&3]
}

func rw(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

// clock runs one byte of the transaction. Caller holds mu.
func (c *Chip) clock(w byte, r *byte) {
	t := &c.tx
	p := t.pos
	t.pos++
	if p < 4 {
		t.cmdWire[p] = w
		if p == 3 {
			c.decode()
		}
		return
	}
	switch {
	case p < t.dataOff: // F1 read pad
		*r = 0
	case p < t.dataEnd:
		k := p - t.dataOff
		if !t.write {
			*r = t.rdata[k]
			return
		}
		t.wdata = append(t.wdata, w)
		if len(t.wdata) == t.units*unitBytes {
			c.applyWrite()
		}
	case p < t.end:
		if !t.stSet {
			v := c.statusWord() | t.stBits
			binary.LittleEndian.PutUint32(t.stWire[:], v)
			permute(t.stWire[:], t.mode)
			t.stSet = true
		}
		*r = t.stWire[p-t.dataEnd]
	default:
		t.past++
	}
}

// decode takes the command word apart and, for a read, fetches the data.
func (c *Chip) decode() {
	t := &c.tx
	u := t.cmdWire
	permute(u[:], t.mode)
	cmd := binary.LittleEndian.Uint32(u[:])
	t.decoded = true
	t.cmd = cmd
	t.write = cmd&cmdWrite != 0
	t.fn = int(cmd>>cmdFuncShift) & 3
	t.addr = cmd >> cmdAddrShift & cmdAddrMask
	t.n = int(cmd & cmdLenMask)
	if t.n == 0 {
		t.n = 2048
	}
	t.units = (t.n + 3) / 4
	t.dataOff = 4
	if t.fn == funcBack && !t.write {
		t.dataOff += f1Pad
	}
	t.dataEnd = t.dataOff + t.units*unitBytes
	t.end = t.dataEnd
	if t.status {
		t.end += unitBytes
	}
	if cmd&cmdIncr == 0 {
		c.log.Debug("fixed-address gSPI access treated as incrementing", "cmd", fmt.Sprintf("0x%08X", cmd))
	}
	c.log.Debug("gSPI", "mode", t.mode.String(), "func", funcName(t.fn), "op", rw(t.write), "addr", fmt.Sprintf("0x%05X", t.addr), "len", t.n)
	if t.fn != funcBus && t.mode == mode16 {
		c.misuse(ruleMode, "%s %s at 0x%05X in 16-bit mode, before the 32-bit mode switch (F0 0x00 bit0)", funcName(t.fn), rw(t.write), t.addr)
	}
	if t.write {
		return
	}
	data := make([]byte, t.units*unitBytes)
	switch t.fn {
	case funcBus:
		for i := 0; i < t.n; i++ {
			data[i] = c.f0Read(t.addr + uint32(i))
		}
	case funcBack:
		c.f1Read(t.addr, data[:t.n])
	case funcWLAN:
		c.f2Read(data[:t.n])
	default:
		c.misuse(ruleF3, "F3 read of %d bytes: no Bluetooth function (data reads 0)", t.n)
	}
	permute(data, t.mode)
	t.rdata = append(t.rdata[:0], data...)
}

// applyWrite runs a write once all its data units are in.
func (c *Chip) applyWrite() {
	t := &c.tx
	data := append([]byte(nil), t.wdata...)
	permute(data, t.mode)
	data = data[:t.n]
	t.done = true
	switch t.fn {
	case funcBus:
		for i, v := range data {
			c.f0Write(t.addr+uint32(i), v)
		}
	case funcBack:
		c.f1Write(t.addr, data)
	case funcWLAN:
		c.f2Write(data)
	default:
		c.misuse(ruleF3, "F3 write of %d bytes: no Bluetooth function (ignored)", t.n)
	}
	c.updateIRQ()
}

// intStatus is F0 0x04: the latched bits plus F2 packet available while a
// frame waits (a level, fact sheet 8.2.9). Caller holds mu.
func (c *Chip) intStatus() uint16 {
	v := c.bus.intLatch
	if len(c.sd.rxq) > 0 {
		v |= intF2Packet
	}
	return v
}

// raise latches interrupt bits. Caller holds mu.
func (c *Chip) raise(bits uint16) {
	c.bus.intLatch |= bits
	c.updateIRQ()
}

// statusWord is F0 0x08 and the trailing status word. Caller holds mu.
func (c *Chip) statusWord() uint32 {
	var v uint32
	if c.bp.f2Ready {
		v |= stF2RxReady
	}
	if n := c.sd.headLen(); n > 0 {
		v |= stF2PktAvail | uint32(min(n, stF2LenMax))<<stF2LenShift
	}
	if c.intStatus()&intF2Intr != 0 {
		v |= stF2Intr
	}
	return v
}

// f0Read reads one F0 register byte. Caller holds mu.
func (c *Chip) f0Read(a uint32) byte {
	a %= f0Size
	switch {
	case a == regIntStatus, a == regIntStatus+1:
		return byte(c.intStatus() >> (8 * (a - regIntStatus)))
	case a == regIntEnable, a == regIntEnable+1:
		return byte(c.bus.intEnable >> (8 * (a - regIntEnable)))
	case a >= regStatus && a < regStatus+4:
		return byte(c.statusWord() >> (8 * (a - regStatus)))
	case a >= regF1Info && a < regF3Info+2:
		var info uint16
		switch (a - regF1Info) / 2 {
		case 0:
			info = infoEnabled | infoReady
		case 1:
			if c.bp.armRunning() {
				info |= infoEnabled
			}
			if c.bp.f2Ready {
				info |= infoReady
			}
		}
		return byte(info >> (8 * ((a - regF1Info) % 2)))
	case a >= regTestRO && a < regTestRO+4:
		return byte(uint32(testPattern) >> (8 * (a - regTestRO)))
	}
	return c.bus.f0[a]
}

// f0Write writes one F0 register byte. Caller holds mu.
func (c *Chip) f0Write(a uint32, v byte) {
	a %= f0Size
	switch {
	case a == regIntStatus, a == regIntStatus+1:
		c.bus.intLatch &^= uint16(v) << (8 * (a - regIntStatus))
	case a == regIntEnable, a == regIntEnable+1:
		sh := 8 * (a - regIntEnable)
		c.bus.intEnable = c.bus.intEnable&^(0xFF<<sh) | uint16(v)<<sh
	case a >= regStatus && a < regTestRO+4:
		name := "status"
		switch {
		case a >= regTestRO:
			name = "test 0xFEEDBEAD"
		case a >= regF1Info:
			name = "function info"
		}
		if c.tx.once(fmt.Sprintf("ro%d", (a-regStatus)/4)) {
			c.misuse(ruleReadOnly, "write 0x%02X to read-only F0 0x%02X (%s): ignored", v, a, name)
		}
	default:
		c.bus.f0[a] = v
	}
}
