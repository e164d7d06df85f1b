package w5500

import (
	"bytes"
	"testing"
)

func TestChip_BufferSizes(t *testing.T) {
	for _, tc := range []struct {
		name string
		rx   [8]byte // Sn_RXBUF_SIZE, written in socket order
		tx   [8]byte
		errs []string // at write or at OPEN of socket 0
		fsr  uint16   // S0_TX_FSR after OPEN
	}{
		{"defaults", [8]byte{2, 2, 2, 2, 2, 2, 2, 2}, [8]byte{2, 2, 2, 2, 2, 2, 2, 2}, nil, 0x0800},
		{"Linux: 16 KiB for socket 0", [8]byte{16}, [8]byte{16}, nil, 0x4000},
		{"8+4+2+1+1", [8]byte{8, 4, 2, 1, 1}, [8]byte{4, 4, 4, 4}, nil, 0x1000},
		{"invalid size 3", [8]byte{3, 2, 2, 2, 2, 2, 2, 0}, [8]byte{2, 2, 2, 2, 2, 2, 2, 2},
			[]string{"S0_RXBUF_SIZE (socket 0 0x001E): invalid buffer size 0x03", "socket 0 has no RX buffer"}, 0x0800},
		{"invalid size 32", [8]byte{2, 2, 2, 2, 2, 2, 2, 2}, [8]byte{16, 32},
			[]string{"S1_TXBUF_SIZE (socket 1 0x001F): invalid buffer size 0x20"}, 0x4000},
		{"RX total 18 KiB", [8]byte{4, 4, 4, 4, 2}, [8]byte{2, 2, 2, 2, 2, 2, 2, 2},
			[]string{"Sn_RXBUF_SIZE total 18 KiB exceeds 16 KiB"}, 0x0800},
		{"TX total 32 KiB", [8]byte{2, 2, 2, 2, 2, 2, 2, 2}, [8]byte{16, 16},
			[]string{"Sn_TXBUF_SIZE total 32 KiB exceeds 16 KiB"}, 0x4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			for n := range 8 {
				wr(c, sreg(n), snRXBUFSIZE, tc.rx[n], tc.tx[n])
			}
			wr(c, sreg(0), snMR, protoMACRAW)
			command(t, c, 0, cmdOPEN)
			if fsr := rd16(c, sreg(0), snTXFSR); fsr != tc.fsr {
				t.Errorf("S0_TX_FSR = 0x%04X, want 0x%04X", fsr, tc.fsr)
			}
			checkErrors(t, c, tc.errs...)
		})
	}
}

// Resizing a buffer that moves an open socket's buffer is misuse.
func TestChip_BufferResizeWhileOpen(t *testing.T) {
	c, _ := newChip(t)
	openMACRAW(t, c, macA, 0)
	wr(c, sreg(1), snRXBUFSIZE, 2) // unchanged: fine
	wr(c, sreg(1), snRXBUFSIZE, 0) // socket 0's buffer does not move: fine
	checkErrors(t, c)
	wr(c, sreg(0), snTXBUFSIZE, 4)
	checkErrors(t, c, "moves the buffer of open socket 0")
}

// A socket with a 0 KiB buffer (or one past 16 KiB) has no memory.
func TestChip_BufferNone(t *testing.T) {
	c, _ := newChip(t)
	wr(c, sreg(3), snTXBUFSIZE, 0)
	wr(c, stx(3), 0, 1, 2, 3)
	if got := rd(c, stx(3), 0, 3); !bytes.Equal(got, []byte{0, 0, 0}) {
		t.Errorf("socket 3 TX buffer reads % X", got)
	}
	checkErrors(t, c, "S3_TXBUF_SIZE=0", "S3_TXBUF_SIZE=0")
	wr(c, sreg(0), snRXBUFSIZE, 16) // sockets 1-7 now lie past 16 KiB
	wr(c, srx(1), 0, 1)
	checkErrors(t, c, "socket 1 RX buffer 0x0000: the socket has no buffer")
}

// Offsets are taken mod the socket's size, and a burst wraps inside the
// socket's own buffer: it never spills into the next socket's.
func TestChip_BufferWrap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sizeKiB byte
		bsb     byte
		off     uint16
	}{
		{"TX 2 KiB burst over the end", 2, stx(0), 0x07FC},
		{"TX 2 KiB free-running offset", 2, stx(0), 0xF7FC},
		{"RX 2 KiB burst over the end", 2, srx(0), 0x07FE},
		{"TX 16 KiB burst over the end", 16, stx(0), 0x3FFD},
		{"RX 8 KiB at offset 0xFFFF", 8, srx(0), 0xFFFF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newChip(t)
			wr(c, sreg(0), snRXBUFSIZE, tc.sizeKiB, tc.sizeKiB)
			for n := 1; n < 8; n++ {
				wr(c, sreg(n), snRXBUFSIZE, 0, 0)
			}
			if tc.sizeKiB < 16 {
				wr(c, sreg(1), snRXBUFSIZE, tc.sizeKiB, tc.sizeKiB)
			}
			next := tc.bsb + 4 // the same buffer of socket 1
			if tc.sizeKiB < 16 {
				wr(c, next, 0, 0xEE, 0xEE, 0xEE, 0xEE)
			}
			data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			wr(c, tc.bsb, tc.off, data...)
			if got := rd(c, tc.bsb, tc.off, len(data)); !bytes.Equal(got, data) {
				t.Errorf("burst read back % X", got)
			}
			size := uint16(tc.sizeKiB) * 1024
			end := size - tc.off%size // bytes before the wrap
			if got := rd(c, tc.bsb, 0, len(data)-int(end)); !bytes.Equal(got, data[end:]) {
				t.Errorf("offset 0 holds % X, want % X", got, data[end:])
			}
			if got := rd(c, tc.bsb, tc.off+size, len(data)); !bytes.Equal(got, data) {
				t.Errorf("offset + size reads % X: offsets are not taken mod the size", got)
			}
			if tc.sizeKiB < 16 {
				if got := rd(c, next, 0, 4); !bytes.Equal(got, []byte{0xEE, 0xEE, 0xEE, 0xEE}) {
					t.Errorf("socket 1's buffer = % X: the burst spilled over", got)
				}
			}
			checkErrors(t, c)
		})
	}
}
