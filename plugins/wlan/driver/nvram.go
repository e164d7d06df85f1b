package driver

import "strings"

// builtinNVRAM is this driver's own minimal board file, used when the
// operator grants no "nvram" blob: a handful of NUL-separated key=value
// settings naming the chip and its crystal, written for nichost (not a
// vendor's file). It has none of a real board's RF calibration: on real
// hardware grant the board's NVRAM (for a Pico W, the one of its SDK).
var builtinNVRAM = []string{
	"NVRAMRev=nichost-minimal-1",
	"manfid=0x2d0",
	"prodid=0x0727",
	"vendid=0x14e4",
	"devid=0x43e2",
	"boardrev=0x1101",
	"boardnum=22",
	"sromrev=11",
	"xtalfreq=37400",
	"ccode=XX",
	"macaddr=00:A0:50:b5:59:5e",
}

// defaultNVRAM is builtinNVRAM as the chip takes it (see nvramImage).
func defaultNVRAM() []byte {
	return nvramImage([]byte(strings.Join(builtinNVRAM, "\x00")))
}

// nvramImage makes NVRAM text what the chip reads: the key=value entries
// NUL-separated (newline-separated text is converted, comment lines
// dropped), a double NUL at the end, padded with NULs to whole words.
func nvramImage(text []byte) []byte {
	var out []byte
	for _, line := range strings.FieldsFunc(string(text), func(r rune) bool { return r == 0 || r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line...)
		out = append(out, 0)
	}
	out = append(out, 0)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}
