package driver

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestSecurity(t *testing.T) {
	rsn := func(akms ...byte) []byte {
		b := []byte{48, 0, 1, 0, 0x00, 0x0F, 0xAC, 4, 1, 0, 0x00, 0x0F, 0xAC, 4, byte(len(akms)), 0}
		for _, a := range akms {
			b = append(b, 0x00, 0x0F, 0xAC, a)
		}
		b = append(b, 0, 0)
		b[1] = byte(len(b) - 2)
		return b
	}
	wpa := []byte{221, 8, 0x00, 0x50, 0xF2, 0x01, 1, 0, 0, 0}
	other := []byte{221, 4, 0x00, 0x50, 0xF2, 0x04} // WPS: not WPA
	for _, c := range []struct {
		name string
		cap  uint16
		ies  []byte
		want int
	}{
		{"open", 0x0001, nil, secOpen},
		{"wep", 0x0011, other, secWEP},
		{"wpa", 0x0011, wpa, secWPA},
		{"wpa2", 0x0011, rsn(2), secWPA2},
		{"wpa2 sha256", 0x0011, rsn(6), secWPA2},
		{"wpa3", 0x0011, rsn(8), secWPA3},
		{"transition", 0x0011, rsn(2, 8), secWPA2WPA3},
		{"wpa/wpa2", 0x0011, append(append([]byte(nil), wpa...), rsn(2)...), secWPAWPA2},
		{"truncated IE", 0x0011, []byte{48, 40, 1, 0}, secWEP},
	} {
		if got := security(c.cap, c.ies); got != c.want {
			t.Errorf("%s: security %d, want %d", c.name, got, c.want)
		}
	}
}

func bssRecord(ssid string, ch int, rssi int16, ies []byte) []byte {
	r := make([]byte, bssFixed+len(ies))
	binary.LittleEndian.PutUint32(r[bssLength:], uint32(len(r)))
	copy(r[bssBSSID:], []byte{2, 0, 0, 0, 0, 7})
	r[bssSSIDLen] = byte(len(ssid))
	copy(r[bssSSID:], ssid)
	binary.LittleEndian.PutUint16(r[bssChanspec:], uint16(ch)|0x1000)
	binary.LittleEndian.PutUint16(r[bssRSSI:], uint16(rssi))
	binary.LittleEndian.PutUint16(r[bssIEOff:], bssFixed)
	binary.LittleEndian.PutUint32(r[bssIELen:], uint32(len(ies)))
	copy(r[bssFixed:], ies)
	return r
}

func TestParseBSS(t *testing.T) {
	b, n, ok := parseBSS(bssRecord("net", 6, -51, nil))
	if !ok || n != bssFixed || b.ssid != "net" || b.channel != 6 || b.rssi != -51 || b.hidden || b.sec != secOpen {
		t.Fatalf("parseBSS = %+v, %d, %v", b, n, ok)
	}
	for _, ssid := range []string{"", "\x00\x00\x00"} {
		if b, _, ok := parseBSS(bssRecord(ssid, 3, -70, nil)); !ok || !b.hidden || b.ssid != "" {
			t.Errorf("SSID %q: %+v, want hidden with no SSID", ssid, b)
		}
	}
	bad := bssRecord("net", 6, -51, []byte{0, 3, 'n', 'e', 't'})
	binary.LittleEndian.PutUint32(bad[bssIELen:], 100) // IEs past the record
	if _, _, ok := parseBSS(bad); ok {
		t.Error("a record whose IEs run past its length was taken")
	}
	if _, _, ok := parseBSS(make([]byte, 40)); ok {
		t.Error("a short record was taken")
	}
	// Merging: the strongest reading, the probe response's SSID, hidden
	// if a beacon hid it.
	var r scanRun
	x, _, _ := parseBSS(bssRecord("", 3, -70, nil))
	y, _, _ := parseBSS(bssRecord("secret", 3, -65, nil))
	r.merge(x)
	r.merge(y)
	if len(r.found) != 1 || r.found[0].ssid != "secret" || !r.found[0].hidden || r.found[0].rssi != -65 {
		t.Errorf("merged %+v", r.found)
	}
}

func TestNVRAMImage(t *testing.T) {
	got := nvramImage([]byte("# comment\na=1\r\n\nb=2\x00c=3"))
	want := []byte("a=1\x00b=2\x00c=3\x00\x00")
	for len(want)%4 != 0 {
		want = append(want, 0)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("nvramImage = %q, want %q", got, want)
	}
	if d := defaultNVRAM(); len(d)%4 != 0 || !bytes.HasPrefix(d, []byte("NVRAMRev=")) || !bytes.Contains(d, []byte("\x00\x00")) {
		t.Fatalf("defaultNVRAM = %q", d)
	}
}

func TestWire(t *testing.T) {
	// The command word: write, incrementing, F1, address 0x1000E, 1 byte.
	if c := command(true, fnBackplane, 0x1000E, 1); c != 0x80000000|0x40000000|1<<28|0x1000E<<11|1 {
		t.Errorf("command = %#x", c)
	}
	// 16-bit mode: 0xFEEDBEAD reads BE AD FE ED on the wire.
	u := []byte{0xBE, 0xAD, 0xFE, 0xED}
	swap16(u)
	if binary.LittleEndian.Uint32(u) != 0xFEEDBEAD {
		t.Errorf("swap16 of the test register's wire bytes: %#x", binary.LittleEndian.Uint32(u))
	}
	// The escan parameters' layout (fact sheet 5.4).
	p := escanParams(7, scanReq{ssid: "ab", channels: []int{1, 6}, passive: true, dwell: 30})
	if len(p) != 76 || binary.LittleEndian.Uint16(p[6:]) != 7 || binary.LittleEndian.Uint32(p[8:]) != 2 || p[51] != 1 ||
		int32(binary.LittleEndian.Uint32(p[60:])) != 30 || binary.LittleEndian.Uint32(p[68:]) != 2 || binary.LittleEndian.Uint16(p[74:]) != 0x1006 {
		t.Errorf("escan params % x", p)
	}
	// A data frame: SDPCM channel 2, header 14, BDC version 2.
	f := dataFrame(make([]byte, 64), make([]byte, 14), ifSTA)
	if len(f) != 32 || binary.LittleEndian.Uint16(f) != 32 || f[5] != chanData || f[7] != 14 || f[14] != 0x20 || f[16] != 0 {
		t.Errorf("data frame % x", f)
	}
	// The access point's: BDC flags2 1.
	if f := dataFrame(make([]byte, 64), make([]byte, 14), ifAP); f[14] != 0x20 || f[16] != 1 {
		t.Errorf("the access point's data frame % x", f)
	}
	// The event mask keeps what the access point needs: DEAUTH_IND,
	// ASSOC_IND, REASSOC_IND, DISASSOC_IND, LINK.
	m := eventMask()
	if len(m) != 28 || binary.LittleEndian.Uint32(m) != 0 {
		t.Fatalf("event mask % x: want bsscfg 0 and 24 bytes", m)
	}
	for _, ev := range []int{evDeauthInd, evAssocInd, evReassocInd, evDisassocInd, evLink, evPSKSup, evEscanResult} {
		if m[4+ev/8]&(1<<(ev%8)) == 0 {
			t.Errorf("the event mask disables event %d", ev)
		}
	}
	// The credit window: the last frame is kept for control.
	c := ctl{seq: 10, credit: 12}
	if !c.hasCredit() || !c.dataCredit() {
		t.Error("two frames of credit: data may go")
	}
	c.seq = 11
	if !c.hasCredit() || c.dataCredit() {
		t.Error("one frame of credit: control only")
	}
	c.seq = 12
	if c.hasCredit() {
		t.Error("no credit")
	}
	c.takeCredit(5) // behind the sequence: ignored
	if c.credit != 12 {
		t.Error("a credit behind the sequence was taken")
	}
}
