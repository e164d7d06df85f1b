package driver

import (
	"encoding/binary"
	"testing"

	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

// FuzzRxFrame feeds the driver F2 frames as a broken or hostile chip might
// send them (any SDPCM header, channel, CDC reply, event or BSS record)
// while it joins, is joined (with the access point up), or scans: it drops
// what does not parse and never panics, and the calls after it still
// answer.
func FuzzRxFrame(f *testing.F) {
	frame := func(ch, hdr byte, payload []byte) []byte {
		b := make([]byte, 12, 12+len(payload))
		b = append(b, payload...)
		binary.LittleEndian.PutUint16(b, uint16(len(b)))
		binary.LittleEndian.PutUint16(b[2:], ^uint16(len(b)))
		b[5], b[7], b[9] = ch, hdr, 8
		return b
	}
	event := func(typ, status uint32, ifidx byte, data []byte) []byte {
		e := make([]byte, 4+72+len(data))
		e[0] = 0x20
		m := e[4:]
		binary.BigEndian.PutUint16(m[12:], 0x886C)
		binary.BigEndian.PutUint16(m[14:], 0x8001)
		copy(m[19:], []byte{0x00, 0x10, 0x18})
		m[23] = 1
		binary.BigEndian.PutUint32(m[28:], typ)
		binary.BigEndian.PutUint32(m[32:], status)
		binary.BigEndian.PutUint32(m[44:], uint32(len(data)))
		copy(m[48:], []byte{0x02, 0x57, 0x41, 0, 0, 1})
		m[70], m[71] = ifidx, ifidx
		copy(m[72:], data)
		return e
	}
	for phase := range byte(3) {
		f.Add(phase, frame(0, 12, make([]byte, 16)))
		f.Add(phase, frame(1, 12, event(69, 8, 0, make([]byte, 12+128))))
		f.Add(phase, frame(1, 12, event(16, 0, 0, nil)))
		f.Add(phase, frame(1, 12, event(46, 6, 0, nil)))
		f.Add(phase, frame(1, 12, event(8, 0, 1, nil)))
		f.Add(phase, frame(1, 12, event(12, 0, 1, nil)))
		f.Add(phase, frame(1, 12, event(16, 0, 1, nil)))
		f.Add(phase, frame(2, 12, append([]byte{0x20, 0, 0, 0}, make([]byte, 60)...)))
		f.Add(phase, frame(2, 12, append([]byte{0x20, 0, 1, 0}, make([]byte, 60)...)))
	}
	// The buses the driver declares, granted to an unpowered simulated
	// chip: rxFrame works on the bytes alone.
	dev, err := wlandev.New(nil, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(dev.Close)
	buses := map[string]any{}
	for name, g := range dev.Buses {
		buses[name] = dev.Sims[g.Sim]
	}
	f.Fuzz(func(t *testing.T, phase byte, b []byte) {
		d := New().(*Driver)
		h := guesttest.New(t, d, guesttest.Options{Buses: buses})
		d.staOn, d.ready = true, true
		switch phase % 3 {
		case 1:
			d.sta.phase = phaseJoining
		case 2:
			d.sta.phase = phaseJoined
			d.ap.on, d.ap.phase, d.ap.linkUp = true, apUp, true
		}
		d.ctl.cur = &ioctl{name: "fuzz", id: 1}
		d.startScan(scanReq{}, false, nil)
		d.rxFrame(b)
		if _, err := h.Call("status"); err != nil {
			t.Fatalf("status() after the frame: %v", err)
		}
		if _, err := h.Call("isconnected"); err != nil {
			t.Fatalf("isconnected() after the frame: %v", err)
		}
		if _, err := h.CallOn(ifAP, "status"); err != nil {
			t.Fatalf("ap.status() after the frame: %v", err)
		}
		if _, err := h.CallOn(ifAP, "isconnected"); err != nil {
			t.Fatalf("ap.isconnected() after the frame: %v", err)
		}
	})
}
