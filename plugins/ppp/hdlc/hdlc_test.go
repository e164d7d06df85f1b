package hdlc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
)

type frame struct {
	proto uint16
	info  []byte
}

// decodeAll feeds line to a fresh decoder for r, in pieces of step octets
// (0: all at once), and returns the frames it passed.
func decodeAll(r Receive, line []byte, step int) ([]frame, Stats) {
	d := NewDecoder(r)
	var got []frame
	emit := func(p uint16, info []byte) { got = append(got, frame{p, bytes.Clone(info)}) }
	if step == 0 {
		d.Write(line, emit)
	} else {
		for i := 0; i < len(line); i += step {
			d.Write(line[i:min(i+step, len(line))], emit)
		}
	}
	return got, d.Stats()
}

// The check values of the two FCSs (CRC-16/X.25 and CRC-32 of
// "123456789"), and each FCS over a frame with its own FCS appended
// gives the good residue.
func TestFCS_CheckValuesAndResidues(t *testing.T) {
	msg := []byte("123456789")
	if got := FCS16(FCS16Init, msg) ^ 0xffff; got != 0x906e {
		t.Fatalf("FCS-16(123456789) = %#04x, want 0x906e", got)
	}
	if got := crc32.ChecksumIEEE(msg); got != 0xcbf43926 {
		t.Fatalf("FCS-32(123456789) = %#08x, want 0xcbf43926", got)
	}
	f := FCS16(FCS16Init, msg) ^ 0xffff
	if got := FCS16(FCS16Init, append(bytes.Clone(msg), byte(f), byte(f>>8))); got != FCS16Good {
		t.Fatalf("FCS-16 residue %#04x, want %#04x", got, FCS16Good)
	}
	c := binary.LittleEndian.AppendUint32(bytes.Clone(msg), crc32.ChecksumIEEE(msg))
	if got := crc32.ChecksumIEEE(c); got != FCS32Good {
		t.Fatalf("FCS-32 residue %#08x, want %#08x", got, FCS32Good)
	}
}

// Every octet value survives a round trip, with every combination of the
// negotiable options, whether the line delivers it whole or an octet at a
// time; with the default ACCM no control character, and in no case a flag
// or escape octet, appears inside a frame on the line.
func TestRoundTrip_EveryOctetEveryOption(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, accm := range []uint32{DefaultACCM, 0, 0x000a0000} {
		for _, fcs32 := range []bool{false, true} {
			for _, comp := range []bool{false, true} {
				s := Send{ACCM: accm, FCS32: fcs32, ACFC: comp, PFC: comp}
				r := Receive{ACCM: accm, FCS32: fcs32}
				name := fmt.Sprintf("accm=%08x/fcs32=%v/compressed=%v", accm, fcs32, comp)
				var line []byte
				want := []frame{{ProtoIPv4, all}, {ProtoIPCP, []byte{1, 2, 0, 4}}, {ProtoIPv6, []byte{Flag, Escape, 0x11, 0x13}}}
				for _, f := range want {
					line = Append(line, f.proto, f.info, s)
				}
				inner := bytes.Split(bytes.Trim(line, string([]byte{Flag})), []byte{Flag})
				for _, fr := range inner {
					for _, c := range fr {
						if c < 0x20 && accm&(1<<c) != 0 {
							t.Fatalf("%s: control character %#02x unescaped on the line", name, c)
						}
						if c == Flag {
							t.Fatalf("%s: a flag inside a frame", name)
						}
					}
				}
				for _, step := range []int{0, 1, 7} {
					got, st := decodeAll(r, line, step)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s, pieces of %d: decoded %v, want %v (stats %+v)", name, step, got, want, st)
					}
				}
			}
		}
	}
}

// With compression negotiated a data frame is shorter; an LCP Configure
// packet still carries address, control and a two-octet protocol, and its
// control characters escaped, whatever was negotiated.
func TestAppend_LCPControlPacketsKeepTheDefaults(t *testing.T) {
	s := Send{ACCM: 0, ACFC: true, PFC: true}
	ip := Append(nil, ProtoIPv4, []byte{0x45}, s)
	if want := []byte{Flag, 0x21, 0x45}; !bytes.HasPrefix(ip, want) {
		t.Fatalf("compressed IPv4 frame % x, want it to begin % x", ip, want)
	}
	confReq := []byte{1, 1, 0, 4}
	lcp := Append(nil, ProtoLCP, confReq, s)
	if want := []byte{Flag, Address, Escape, Control ^ 0x20, 0xc0, 0x21, Escape, 0x21, Escape, 0x21, Escape, 0x20, Escape, 0x24}; !bytes.HasPrefix(lcp, want) {
		t.Fatalf("LCP Configure-Request % x, want it to begin % x", lcp, want)
	}
	// An Echo-Request (code 9) keeps the full header but uses the ACCM.
	echo := Append(nil, ProtoLCP, []byte{9, 1, 0, 8, 0, 0, 0, 1}, s)
	if want := []byte{Flag, Address, Control, 0xc0, 0x21, 9, 1, 0, 8}; !bytes.HasPrefix(echo, want) {
		t.Fatalf("LCP Echo-Request % x, want it to begin % x", echo, want)
	}
}

// A frame with a bad FCS, an aborted one, a runt, one over the MRU and
// one with a bad header are dropped and counted; the good frames around
// them arrive, and octets before the first flag are ignored.
func TestDecoder_DropsAndCounts(t *testing.T) {
	good := Append(nil, ProtoIPv4, []byte("good"), DefaultSend)
	bad := Append(nil, ProtoIPv4, []byte("bad!"), DefaultSend)
	bad[len(bad)-4] ^= 0x01 // a bit of the information (no escapes in "bad!")
	aborted := []byte{Flag, Address, Escape, Control ^ 0x20, 0x00, 0x21, 'x', Escape, Flag}
	long := Append(nil, ProtoIPv4, make([]byte, 11), DefaultSend)
	runt := []byte{Flag, 0x21, Flag}
	h := []byte{Address, 0x05, 0x00, 0x21}
	f := FCS16(FCS16Init, h) ^ 0xffff
	badHdr := Append(nil, 0, nil, DefaultSend)[:1]
	badHdr = stuff(badHdr, append(h, byte(f), byte(f>>8)), DefaultACCM)
	badHdr = append(badHdr, Flag)
	var line []byte
	line = append(line, "noise"...)
	for _, part := range [][]byte{good, bad, good, aborted, good, long, runt, badHdr, good} {
		line = append(line, part...)
	}
	got, st := decodeAll(Receive{ACCM: DefaultACCM, MRU: 10}, line, 3)
	if len(got) != 4 {
		t.Fatalf("%d frames passed, want the 4 good ones: %v", len(got), got)
	}
	for _, f := range got {
		if f.proto != ProtoIPv4 || string(f.info) != "good" {
			t.Fatalf("passed %v, want only the good frames", f)
		}
	}
	want := Stats{Frames: 4, BadFCS: 1, Aborted: 1, TooLong: 1, Runts: 1, BadHdr: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

// XON and XOFF inserted by a modem are removed when this end asked for
// them escaped; when it did not, they are data, and the FCS catches the
// change.
func TestDecoder_RemovesInsertedControlCharacters(t *testing.T) {
	line := Append(nil, ProtoIPv4, []byte("payload"), DefaultSend)
	noisy := append([]byte{}, line[:4]...)
	noisy = append(noisy, 0x11)
	noisy = append(noisy, line[4:8]...)
	noisy = append(noisy, 0x13)
	noisy = append(noisy, line[8:]...)
	got, _ := decodeAll(Receive{ACCM: 1<<0x11 | 1<<0x13}, noisy, 1)
	if len(got) != 1 || string(got[0].info) != "payload" {
		t.Fatalf("with XON/XOFF in the ACCM: %v, want the frame", got)
	}
	got, st := decodeAll(Receive{ACCM: 0}, noisy, 1)
	if len(got) != 0 || st.BadFCS != 1 {
		t.Fatalf("with an empty ACCM: %v, stats %+v; want the frame dropped for its FCS", got, st)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	info := make([]byte, 1500)
	for i := range info {
		info[i] = byte(i)
	}
	d := NewDecoder(DefaultReceive)
	var line []byte
	b.SetBytes(int64(len(info)))
	b.ReportAllocs()
	for b.Loop() {
		line = Append(line[:0], ProtoIPv4, info, DefaultSend)
		d.Write(line, func(uint16, []byte) {})
	}
}
