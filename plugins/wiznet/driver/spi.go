package driver

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// arenaSize is the batch's scratch memory for frame headers and register
// data. A batch that needs more gets a fresh arena; slices already handed
// out stay valid (they keep the old one alive).
const arenaSize = 1024

// batch collects W5500 SPI frames (one chip-select assertion each) for a
// single spi_transact host call. A frame is a record holding the 3-byte
// header (offset, control byte) and its data (a register write), a
// full-duplex record whose first 3 bytes in are the header's MISO (a
// register read), or, for long data that is not copied, a header record
// with KeepCS followed by data records.
//
// Use: begin, add frames, run; slices returned by read are filled by run
// and stay valid until the next begin.
type batch struct {
	spi   guest.SPI
	ops   []abi.SPIOp
	arena []byte
	used  int
	err   error // from a flush forced by a full record list

	calls uint64 // spi_transact calls made
}

func newBatch(spi guest.SPI) *batch {
	return &batch{spi: spi, ops: make([]abi.SPIOp, 0, abi.SPIMaxOps), arena: make([]byte, arenaSize)}
}

// begin starts a new batch.
func (b *batch) begin() {
	b.ops, b.used, b.err = b.ops[:0], 0, nil
}

// alloc returns n zeroed bytes of scratch memory.
func (b *batch) alloc(n int) []byte {
	if b.used+n > len(b.arena) {
		b.arena, b.used = make([]byte, max(arenaSize, n)), 0
	}
	p := b.arena[b.used : b.used+n : b.used+n]
	clear(p)
	b.used += n
	return p
}

// room makes sure n more records fit; if not, the records so far run now
// (in order, so the sequence on the bus is the same).
func (b *batch) room(n int) {
	if len(b.ops)+n > abi.SPIMaxOps && b.err == nil {
		b.err = b.flush()
	}
}

// header fills p[:3] with the frame header.
func header(p []byte, block byte, addr uint16, write bool) {
	p[0], p[1], p[2] = byte(addr>>8), byte(addr), block<<3
	if write {
		p[2] |= ctlWrite
	}
}

// write adds a frame writing data at addr (copied: for registers).
func (b *batch) write(block byte, addr uint16, data ...byte) {
	b.room(1)
	p := b.alloc(3 + len(data))
	header(p, block, addr, true)
	copy(p[3:], data)
	b.ops = append(b.ops, abi.SPIOp{W: p})
}

// write16 adds a frame writing a big-endian 16-bit register.
func (b *batch) write16(block byte, addr, v uint16) {
	b.write(block, addr, byte(v>>8), byte(v))
}

// writeFrom adds a frame writing data at addr without copying it: data
// must stay unchanged until run.
func (b *batch) writeFrom(block byte, addr uint16, data []byte) {
	b.room(2)
	p := b.alloc(3)
	header(p, block, addr, true)
	b.ops = append(b.ops, abi.SPIOp{W: p, KeepCS: true}, abi.SPIOp{W: data})
}

// writeFrames adds one frame writing the frames one after the other from
// addr, without copying them: a header record and one record per frame,
// joined by KeepCS. They must stay unchanged until run.
func (b *batch) writeFrames(block byte, addr uint16, frames [][]byte) {
	b.room(1 + len(frames))
	p := b.alloc(3)
	header(p, block, addr, true)
	b.ops = append(b.ops, abi.SPIOp{W: p, KeepCS: true})
	for i, f := range frames {
		b.ops = append(b.ops, abi.SPIOp{W: f, KeepCS: i < len(frames)-1})
	}
}

// read adds a frame reading n bytes at addr; the returned slice is filled
// by run. The frame is one full-duplex record: the header and n zeros go
// out while the header's 3 MISO bytes and the data come in (one record
// instead of two: less for the guest to encode and the host to check).
func (b *batch) read(block byte, addr uint16, n int) []byte {
	b.room(1)
	w := b.alloc(3 + n)
	header(w, block, addr, false)
	r := b.alloc(3 + n)
	b.ops = append(b.ops, abi.SPIOp{W: w, R: r})
	return r[3:]
}

// readInto adds a frame reading len(dst) bytes at addr into dst.
func (b *batch) readInto(block byte, addr uint16, dst []byte) {
	b.room(2)
	p := b.alloc(3)
	header(p, block, addr, false)
	b.ops = append(b.ops, abi.SPIOp{W: p, KeepCS: true}, abi.SPIOp{R: dst})
}

// readMISO is read, also returning the 3 bytes the chip clocks out during
// the header (a W5500 sends 0x01 0x02 0x03).
func (b *batch) readMISO(block byte, addr uint16, n int) (miso, data []byte) {
	b.room(2)
	p := b.alloc(3)
	header(p, block, addr, false)
	miso, data = b.alloc(3), b.alloc(n)
	b.ops = append(b.ops, abi.SPIOp{W: p, R: miso, KeepCS: true}, abi.SPIOp{R: data})
	return miso, data
}

// run makes the host call.
func (b *batch) run() error {
	if b.err != nil {
		return b.err
	}
	return b.flush()
}

func (b *batch) flush() error {
	if len(b.ops) == 0 {
		return nil
	}
	err := b.transact(b.ops)
	b.ops = b.ops[:0]
	return err
}

// transact makes one host call with ops (the batch's, or a caller's
// prebuilt records).
func (b *batch) transact(ops []abi.SPIOp) error {
	b.calls++
	return wrap("SPI transaction", b.spi.Transact(ops))
}
