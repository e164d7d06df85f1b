package cyw43

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
)

// After bring-up and the CLM load, cur_etheraddr reads the OTP MAC, on
// channel 0 with the request's id and CDC length; setting it changes it.
func TestIoctl_CurEtheraddr(t *testing.T) {
	for _, bc := range []uint32{busNichost, busEmbassy, busC} {
		c, h := newChip(t, nil, nil)
		h.bringUp(bc)
		if mac := h.getVar("cur_etheraddr", 6); !bytes.Equal(mac, DefaultMAC) {
			t.Fatalf("bus 0x%08X: cur_etheraddr % X, want % X", bc, mac, DefaultMAC)
		}
		want := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
		h.setVar("cur_etheraddr", want)
		if mac := h.getVar("cur_etheraddr", 6); !bytes.Equal(mac, want) {
			t.Fatalf("cur_etheraddr after SET % X", mac)
		}
		checkErrors(t, c)
	}
}

// The CLM goes in 1024-byte chunks (first 0x1002, middle 0x1000, last
// 0x1004); clmload_status then reads 0. A chunk without the first-chunk
// flag when no load runs is misuse and leaves the status non-zero.
func TestIoctl_CLMLoad(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.download(testFirmware(8192), testNVRAM, true)
	h.boot()
	if st := h.getVar("clmload_status", 4); binary.LittleEndian.Uint32(st) == 0 {
		t.Fatal("clmload_status 0 before any load")
	}
	st, _ := h.ioctl(wlcSetVar, true, append([]byte("clmload\x00"), clmChunk(dlFlagHandV|dlFlagEnd, make([]byte, 100))...))
	if st != bcmeBadArg {
		t.Fatalf("out-of-order chunk: status %d", st)
	}
	h.loadCLM(testFirmware(2600), 1024)
	if s := c.Stats(); s.Ioctls == 0 {
		t.Fatal("no ioctls counted")
	}
	checkErrors(t, c, "a chunk without the first-chunk bit 0x0002 while no load is in progress")
}

// Ioctls that need the CLM answer BCME_ERROR before it is loaded.
func TestIoctl_NeedsCLM(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.download(testFirmware(8192), testNVRAM, true)
	h.boot()
	if st, _ := h.ioctl(wlcUp, true, nil); st != bcmeError {
		t.Fatalf("WLC_UP before the CLM: status %d, want -1", st)
	}
	checkErrors(t, c, "WLC_UP before the CLM is loaded")
}

// The stored settings read back: country, PM, qtxpower, PM iovars, event
// mask, GPIO; unknown ioctls are BCME_UNSUPPORTED.
func TestIoctl_Settings(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.up()
	if cc := h.getVar("country", 12); string(cc[:2]) != "XX" || c.Country() != "XX" {
		t.Fatalf("country % X", cc)
	}
	h.setVar("country", append(append([]byte("DE\x00\x00"), 0xFF, 0xFF, 0xFF, 0xFF), []byte("DE\x00\x00")...))
	if c.Country() != "DE" {
		t.Fatalf("country %q", c.Country())
	}
	h.set32(wlcSetPM, 2)
	if v := binary.LittleEndian.Uint32(h.mustIoctl(wlcGetPM, false, le32(0))); v != 2 {
		t.Fatalf("GET_PM %d", v)
	}
	h.setVar("pm2_sleep_ret", le32(200))
	if v := binary.LittleEndian.Uint32(h.getVar("pm2_sleep_ret", 4)); v != 200 {
		t.Fatalf("pm2_sleep_ret %d", v)
	}
	h.setVar("qtxpower", le32(qtxOverride|4*17))
	if v := binary.LittleEndian.Uint32(h.getVar("qtxpower", 4)); v&^qtxOverride != 68 {
		t.Fatalf("qtxpower 0x%08X", v)
	}
	h.setVar("gpioout", append(le32(1), le32(1)...))
	if v := binary.LittleEndian.Uint32(h.getVar("ccgpioin", 4)); v&1 != 1 {
		t.Fatalf("ccgpioin 0x%X", v)
	}
	h.set32(wlcSetAntdiv, 0)
	if st, _ := h.ioctl(999, false, le32(0)); st != bcmeUnsupported {
		t.Fatalf("unknown ioctl: status %d", st)
	}
	if st, _ := h.ioctl(wlcGetRSSI, false, le32(0)); st != bcmeNotAssociated {
		t.Fatalf("GET_RSSI while not joined: status %d", st)
	}
	if st, _ := h.ioctl(wlcGetVar, false, append([]byte("no_such_var\x00"), 0, 0, 0, 0)); st != bcmeUnsupported {
		t.Fatalf("unknown iovar GET: status %d", st)
	}
	checkErrors(t, c)
}

// SDPCM credit: before the first frame from the chip the host may send one
// frame (credit 1); a second is misuse and dropped; every frame from the
// chip carries credit = last host sequence + 1 + 8 and flow control 0.
func TestSDPCM_Credit(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.download(testFirmware(8192), testNVRAM, true)
	h.boot()
	req := func() []byte {
		h.id++
		p := make([]byte, cdcHeaderLen+20)
		binary.LittleEndian.PutUint32(p[0:], wlcGetVar)
		binary.LittleEndian.PutUint32(p[4:], 20)
		binary.LittleEndian.PutUint32(p[8:], uint32(h.id)<<16)
		copy(p[cdcHeaderLen:], "cur_etheraddr\x00")
		return p
	}
	h.sendRaw(h.sdpcm(chanControl, sdpcmHeaderLen, req())) // seq 0, credit 1: fine
	h.sendRaw(h.sdpcm(chanControl, sdpcmHeaderLen, req())) // seq 1 == credit: no
	if st := h.statusNow(); st&stOverflow == 0 {
		t.Fatalf("trailing status 0x%08X without the overflow bit", st)
	}
	if !h.poll() || h.poll() {
		t.Fatal("want exactly one response")
	}
	if h.credit != 0+1+creditAhead {
		t.Fatalf("credit %d, want 9", h.credit)
	}
	checkErrors(t, c, "sequence 1 sent without credit (the last credit the host read is 1)")
}

// Misuse the fact sheet's drivers never commit, each named with its rule;
// the chip carries on as the part would.
func TestMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(h *host)
		err  string
	}{
		{"F1 before the mode switch", func(h *host) {
			h.power(true)
			h.read8(funcBack, f1ClockCSR)
		}, "in 16-bit mode, before the 32-bit mode switch"},
		{"write to the test register", func(h *host) {
			h.busInit(busNichost)
			h.write32(funcBus, regTestRO, 0)
			if h.read32(funcBus, regTestRO) != testPattern {
				h.t.Fatal("F0 0x14 changed")
			}
		}, "read-only F0 0x14"},
		{"F1 over 64 bytes", func(h *host) {
			h.busInit(busNichost)
			h.resetCore(socsramWrap)
			h.setWindow(0)
			h.write(funcBack, 0, make([]byte, 128))
			if h.read16(funcBus, regIntStatus)&intF1Overflow == 0 {
				h.t.Fatal("no F1 overflow interrupt")
			}
		}, "more than 64 bytes per transaction"},
		{"F1 across the window", func(h *host) {
			h.busInit(busNichost)
			h.resetCore(socsramWrap)
			h.setWindow(0)
			h.write(funcBack, 0x7FF0, make([]byte, 32))
		}, "crosses the 32 KB window"},
		{"RAM before the SOCSRAM reset", func(h *host) {
			h.busInit(busNichost)
			h.bpWrite(0, make([]byte, 64))
		}, "while the SOCSRAM core is in reset"},
		{"RAM write while the ARM runs", func(h *host) {
			h.busInit(busNichost)
			h.download(testFirmware(8192), testNVRAM, true)
			h.boot()
			h.bpWrite(0, make([]byte, 64))
		}, "while the WLAN ARM runs"},
		{"F2 write before the firmware runs", func(h *host) {
			h.busInit(busNichost)
			h.sendRaw(h.sdpcm(chanControl, sdpcmHeaderLen, make([]byte, 16)))
		}, "an ioctl before the firmware runs"},
		{"bad SDPCM length check", func(h *host) {
			h.busInit(busNichost)
			h.download(testFirmware(8192), testNVRAM, true)
			h.boot()
			f := h.sdpcm(chanControl, sdpcmHeaderLen, make([]byte, 16))
			f[2] ^= 1
			h.sendRaw(f)
		}, "(not ~length): dropped"},
		{"F2 read with no frame", func(h *host) {
			h.busInit(busNichost)
			h.download(testFirmware(8192), testNVRAM, true)
			h.boot()
			h.read(funcWLAN, 0, 64)
			if h.last&stDataUnavail == 0 {
				h.t.Fatalf("status 0x%08X without data-unavailable", h.last)
			}
		}, "with no frame waiting"},
		{"F2 read longer than the frame", func(h *host) {
			h.busInit(busNichost)
			h.download(testFirmware(8192), testNVRAM, true)
			h.boot()
			h.id++
			p := make([]byte, cdcHeaderLen+4)
			binary.LittleEndian.PutUint32(p[0:], wlcGetPM)
			binary.LittleEndian.PutUint32(p[4:], 4)
			binary.LittleEndian.PutUint32(p[8:], uint32(h.id)<<16)
			h.sendFrame(chanControl, sdpcmHeaderLen, p)
			n := int(h.read32(funcBus, regStatus) >> stF2LenShift & stF2LenMax)
			h.read(funcWLAN, 0, n+8)
			if h.last&stUnderflow == 0 {
				h.t.Fatalf("status 0x%08X without underflow", h.last)
			}
		}, "longer than the 32-byte head frame"},
		{"SET_SSID before UP", func(h *host) {
			h.bringUp(busNichost)
			ssid := make([]byte, 36)
			ssid[0] = 4
			copy(ssid[4:], "home")
			if st, _ := h.ioctl(wlcSetSSID, true, ssid); st != bcmeNotUp {
				h.t.Fatalf("status %d", st)
			}
		}, "while the firmware is down (before WLC_UP)"},
		{"escan before UP", func(h *host) {
			h.bringUp(busNichost)
			if st, _ := h.ioctl(wlcSetVar, true, append([]byte("escan\x00"), escanParams(scanOpts{})...)); st != bcmeNotUp {
				h.t.Fatalf("status %d", st)
			}
		}, "escan while the firmware is down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, h := newChip(t, nil, nil)
			tc.run(h)
			checkErrors(t, c, tc.err)
		})
	}
}
