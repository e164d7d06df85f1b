package driver

import (
	"encoding/binary"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// The gSPI wire model (nichost's WLAN spec, fact sheet 1): one gSPI
// transaction is one SPI transaction. Every field is made of 4-byte units,
// each a little-endian value; in the power-up 16-bit mode a unit's bytes
// b0 b1 b2 b3 go on the wire as b1 b0 b3 b2, in the 32-bit big-endian mode
// this driver switches to as b0 b1 b2 b3 (memory order). A write is the
// command unit and the data units; a read the command unit, for F1 a pad
// unit, and the data units. With status enabled (F0 0x02 bit0) one more
// unit follows every transaction: the status word.
//
// A transaction is two spi_transact records: the command (and the data of
// a write) with KEEP_CS, then the read of what the chip clocks back (the
// pad, the read data and the status word). A write without status is one
// record.

// gSPI functions (fact sheet 1.2).
const (
	fnBus       = 0 // F0: the gSPI registers
	fnBackplane = 1 // F1: the backplane
	fnWLAN      = 2 // F2: SDPCM packets
)

// Command word bits (fact sheet 1.2).
const (
	cmdWrite = 1 << 31
	cmdIncr  = 1 << 30
)

// F0 registers (fact sheet 1.4).
const (
	f0BusCtrl    = 0x00
	f0IntStatus  = 0x04 // 16 bits, write 1 to clear
	f0IntEnable  = 0x06 // 16 bits
	f0Status     = 0x08 // 32 bits
	f0TestRO     = 0x14 // reads 0xFEEDBEAD
	f0TestRW     = 0x18
	f0RespDelay1 = 0x1D // F1's response delay

	testPattern = 0xFEEDBEAD
	testValue   = 0x12345678

	// busSetup is the one 32-bit F0 write at address 0 in 16-bit mode
	// that switches the bus (the spec's value): bus control 0xB3 (32-bit,
	// big-endian, high speed, IRQ active-high, wake-up), response delay
	// 4, 0x03 (status enable, interrupt with status).
	busSetup = 0x000304B3

	intClearAll = 0x0099 // data unavailable, command error, data error, F1 overflow
	intEnable   = 0x00BE // underflow, overflow, command and data error, F2 packet, F1 overflow
	intF2Packet = 0x0020
	intErrors   = 0x009E

	stF2RxReady  = 0x00000020 // the chip takes an F2 write
	stF2PktAvail = 0x00000100 // a frame waits; bits 19:9 its length
	stF2LenShift = 9
	stF2LenMask  = 0x7FF
)

// F1 local registers (fact sheet 2.1).
const (
	f1Watermark = 0x10008
	f1WinLow    = 0x1000A // window bits 15:8, then 23:16 and 31:24
	f1FrameCtrl = 0x1000D
	f1ClockCSR  = 0x1000E
	f1PullUp    = 0x1000F

	csrALPReq   = 0x08
	csrHTReq    = 0x10
	csrALPAvail = 0x40
	csrHTAvail  = 0x80

	f1AccessFlag = 0x8000 // bit 15 of a windowed F1 address: a 4-byte access
	f1WindowMask = 0x7FFF // the offset inside the 32 KB window
	f1Max        = 64     // bytes per F1 transaction
	f2Max        = 2048   // bytes per F2 transaction
)

// unitLen rounds n up to whole units.
func unitLen(n int) int { return (n + 3) &^ 3 }

// command builds a command word.
func command(write bool, fn int, addr uint32, n int) uint32 {
	c := uint32(cmdIncr) | uint32(fn&3)<<28 | (addr&0x1FFFF)<<11 | uint32(n)&0x7FF
	if write {
		c |= cmdWrite
	}
	return c
}

// swap16 turns units between memory order and the 16-bit mode's wire
// order, in place (the permutation is its own inverse).
func swap16(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+1], b[i], b[i+3], b[i+2]
	}
}

// pendingRead is a read of a batch: raw is the read record's buffer (pad,
// data and status as clocked), out where the data go once the batch ran.
type pendingRead struct {
	raw    []byte
	off    int // of the data in raw
	out    []byte
	status bool // raw ends with a status unit
	swap   bool // clocked in the 16-bit mode
}

// gspi batches gSPI transactions into spi_transact calls: begin, add
// transactions, run. Slices read returns are filled by run.
type gspi struct {
	spi guest.SPI

	word16   bool // the power-up 16-bit mode (until the switch)
	statusOn bool // the chip appends a status unit to every transaction
	window   uint32

	ops   []abi.SPIOp
	reads []pendingRead
	bytes int
	arena []byte
	used  int
	err   error

	status   uint32 // the last status word read
	statusOK bool   // status holds a word read since the last reset

	calls uint64 // spi_transact calls made
}

const arenaSize = 16 << 10

func newGSPI(spi guest.SPI) *gspi {
	return &gspi{spi: spi, ops: make([]abi.SPIOp, 0, abi.SPIMaxOps), arena: make([]byte, arenaSize)}
}

// reset forgets the chip's mode: it was powered up again.
func (g *gspi) reset() {
	g.word16, g.statusOn, g.window = true, false, 0
	g.status, g.statusOK = 0, false
	g.begin()
}

// begin starts a batch.
func (g *gspi) begin() {
	clear(g.ops)
	g.ops, g.reads, g.bytes, g.used, g.err = g.ops[:0], g.reads[:0], 0, 0, nil
}

func (g *gspi) alloc(n int) []byte {
	if g.used+n > len(g.arena) {
		g.arena, g.used = make([]byte, max(arenaSize, n)), 0
	}
	p := g.arena[g.used : g.used+n : g.used+n]
	clear(p)
	g.used += n
	return p
}

// room runs the batch so far if a transaction of two records and n bytes
// would not fit in the call.
func (g *gspi) room(n int) {
	if len(g.ops)+2 > abi.SPIMaxOps || g.bytes+n > abi.SPIMaxTransfer {
		if err := g.flush(); err != nil && g.err == nil {
			g.err = err
		}
	}
}

// write adds a write of data at addr of function fn.
func (g *gspi) write(fn int, addr uint32, data []byte) {
	n := unitLen(len(data))
	g.room(4 + n + 4)
	p := g.alloc(4 + n)
	binary.LittleEndian.PutUint32(p, command(true, fn, addr, len(data)))
	copy(p[4:], data)
	if g.word16 {
		swap16(p)
	}
	g.bytes += len(p)
	if !g.statusOn {
		g.ops = append(g.ops, abi.SPIOp{W: p})
		return
	}
	st := g.alloc(4)
	g.bytes += 4
	g.ops = append(g.ops, abi.SPIOp{W: p, KeepCS: true}, abi.SPIOp{R: st})
	g.reads = append(g.reads, pendingRead{raw: st, status: true, swap: g.word16})
}

// read adds a read of n bytes at addr of function fn; the returned slice
// holds them once the batch ran.
func (g *gspi) read(fn int, addr uint32, n int) []byte {
	pad := 0
	if fn == fnBackplane {
		pad = 4
	}
	tail := 0
	if g.statusOn {
		tail = 4
	}
	rl := pad + unitLen(n) + tail
	g.room(4 + rl)
	c := g.alloc(4)
	binary.LittleEndian.PutUint32(c, command(false, fn, addr, n))
	if g.word16 {
		swap16(c)
	}
	raw := g.alloc(rl)
	out := g.alloc(n)
	g.bytes += 4 + rl
	g.ops = append(g.ops, abi.SPIOp{W: c, KeepCS: true}, abi.SPIOp{R: raw})
	g.reads = append(g.reads, pendingRead{raw: raw, off: pad, out: out, status: g.statusOn, swap: g.word16})
	return out
}

// run makes the batch's host calls and decodes what was read.
func (g *gspi) run() error {
	err := g.flush()
	if g.err != nil {
		err = g.err
	}
	g.begin()
	return err
}

// flush runs the records so far and starts over (the arena stays: slices
// handed out remain valid until begin).
func (g *gspi) flush() error {
	if len(g.ops) == 0 {
		return nil
	}
	g.calls++
	err := g.spi.Transact(g.ops)
	for _, r := range g.reads {
		if err != nil {
			break
		}
		if r.swap {
			swap16(r.raw)
		}
		if r.out != nil {
			copy(r.out, r.raw[r.off:])
		}
		if r.status {
			g.status = binary.LittleEndian.Uint32(r.raw[len(r.raw)-4:])
			g.statusOK = true
		}
	}
	clear(g.ops)
	g.ops, g.reads, g.bytes = g.ops[:0], g.reads[:0], 0
	return err
}

// F0 helpers.

func (g *gspi) write8(fn int, addr uint32, v byte) { g.write(fn, addr, []byte{v}) }

func (g *gspi) write16(fn int, addr uint32, v uint16) {
	g.write(fn, addr, binary.LittleEndian.AppendUint16(nil, v))
}

func (g *gspi) write32(fn int, addr uint32, v uint32) {
	g.write(fn, addr, binary.LittleEndian.AppendUint32(nil, v))
}

// Backplane access through the 32 KB window (fact sheet 2.2).

// setWindow points the window at addr's 32 KB block, writing the window
// bytes that change.
func (g *gspi) setWindow(addr uint32) {
	base := addr &^ f1WindowMask
	for i := range 3 {
		sh := 8 * (i + 1)
		if byte(base>>sh) != byte(g.window>>sh) {
			g.write8(fnBackplane, f1WinLow+uint32(i), byte(base>>sh))
		}
	}
	g.window = base
}

// bpAddr is the F1 address of backplane address addr for an access of n
// bytes (the window set).
func bpAddr(addr uint32, n int) uint32 {
	a := addr & f1WindowMask
	if n == 4 {
		a |= f1AccessFlag
	}
	return a
}

// bpWrite writes data (at most 64 bytes, inside one window) at backplane
// address addr.
func (g *gspi) bpWrite(addr uint32, data []byte) {
	g.setWindow(addr)
	g.write(fnBackplane, bpAddr(addr, len(data)), data)
}

// bpRead reads n bytes (at most 64, inside one window) at addr.
func (g *gspi) bpRead(addr uint32, n int) []byte {
	g.setWindow(addr)
	return g.read(fnBackplane, bpAddr(addr, n), n)
}

func (g *gspi) bpWrite8(addr uint32, v byte) { g.bpWrite(addr, []byte{v}) }

func (g *gspi) bpWrite32(addr uint32, v uint32) {
	g.bpWrite(addr, binary.LittleEndian.AppendUint32(nil, v))
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
