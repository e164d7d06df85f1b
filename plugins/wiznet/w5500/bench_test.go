package w5500

import "testing"

// BenchmarkChip_Frame moves one 1514-byte frame in and one out through the
// register interface per iteration, as a driver does.
func BenchmarkChip_Frame(b *testing.B) {
	c := New(Options{})
	defer c.Close()
	wr(c, sreg(0), snRXBUFSIZE, 16, 16)
	for n := 1; n < 8; n++ {
		wr(c, sreg(n), snRXBUFSIZE, 0, 0)
	}
	wr(c, sreg(0), snMR, protoMACRAW)
	wr(c, sreg(0), snCR, cmdOPEN)
	f := ethFrame(macA, macB, 0x0800, 1514)
	b.SetBytes(2 * int64(len(f)))
	for b.Loop() {
		inject(c, f)
		recvFrame(b, c)
		sendFrame(b, c, f)
	}
	if st := c.Stats(); st.RxDropped != 0 {
		b.Fatalf("stats %+v", st)
	}
}
