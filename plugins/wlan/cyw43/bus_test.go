package cyw43

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// In power-up (16-bit) mode the test register reads BE AD FE ED on the
// wire, the scratch register keeps what is written, and the read values
// survive the switch to either 32-bit mode, with each mode's byte order on
// the wire.
func TestBus_TestRegistersAndModeSwitch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		busCtrl uint32
		mode    wireMode
		wire    []byte // F0 0x14 in the new mode
	}{
		{"big-endian (nichost, cyw43-driver)", busNichost, mode32BE, []byte{0xAD, 0xBE, 0xED, 0xFE}},
		{"little-endian (embassy)", busEmbassy, mode32LE, []byte{0xFE, 0xED, 0xBE, 0xAD}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, h := newChip(t, nil, nil)
			h.power(true)
			if got := h.rawRead(funcBus, regTestRO, 4, 0); !bytes.Equal(got, []byte{0xBE, 0xAD, 0xFE, 0xED}) {
				t.Fatalf("16-bit F0 0x14 on the wire: % X, want BE AD FE ED", got)
			}
			h.write32(funcBus, regTestRW, 0x12345678)
			if v := h.read32(funcBus, regTestRW); v != 0x12345678 {
				t.Fatalf("16-bit F0 0x18 = 0x%08X, want 0x12345678", v)
			}
			h.switchMode(tc.busCtrl)
			if h.mode != tc.mode {
				t.Fatalf("mode %v", h.mode)
			}
			raw := h.rawRead(funcBus, regTestRO, 4, 0)
			if !bytes.Equal(raw[:4], tc.wire) {
				t.Fatalf("%v F0 0x14 on the wire: % X, want % X", tc.mode, raw[:4], tc.wire)
			}
			if v := h.read32(funcBus, regTestRO); v != testPattern {
				t.Fatalf("F0 0x14 = 0x%08X", v)
			}
			if v := h.read32(funcBus, regTestRW); v != 0x12345678 {
				t.Fatalf("F0 0x18 after the switch = 0x%08X, want 0x12345678", v)
			}
			if v := h.read32(funcBus, regBusCtrl); v != tc.busCtrl {
				t.Fatalf("bus control reads 0x%08X, want 0x%08X", v, tc.busCtrl)
			}
			checkErrors(t, c)
		})
	}
}

// An F1 read carries one pad unit before its data; F0 reads carry none.
func TestBus_F1Pad(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busC) // no status word
	h.write8(funcBack, f1Watermark, 0x10)
	raw := h.rawRead(funcBack, f1Watermark, 1, 0)
	if len(raw) != 8 || !bytes.Equal(raw[:4], []byte{0, 0, 0, 0}) || raw[4] != 0x10 {
		t.Fatalf("F1 read of the watermark: % X, want a zero pad unit then 10 00 00 00", raw)
	}
	if raw := h.rawRead(funcBus, regTestRW+4, 1, 0); len(raw) != 4 {
		t.Fatalf("F0 read of 1 byte clocked %d bytes after the command", len(raw))
	}
	checkErrors(t, c)
}

// With status enable the chip appends a status word to every transaction
// (read or write); without it, nothing follows the data: a host may clock
// one unit on (embassy's and soypat's buses always read a status word),
// more is misuse.
func TestBus_TrailingStatus(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.last = 0xDEAD
	h.write8(funcBack, f1Watermark, 0x10)
	if h.last != 0 {
		t.Fatalf("status after a write before boot: 0x%08X, want 0", h.last)
	}
	h.last = 0xDEAD
	h.read32(funcBus, regTestRO)
	if h.last != 0 {
		t.Fatalf("status after a read: 0x%08X", h.last)
	}
	checkErrors(t, c)

	c2, h2 := newChip(t, nil, nil)
	h2.busInit(busC)
	raw := h2.rawRead(funcBus, regTestRO, 4, 4)
	if !bytes.Equal(raw[4:], []byte{0xFF, 0xFF, 0xFF, 0xFF}) {
		t.Fatalf("bytes past a transaction without status: % X, want FF (not driven)", raw[4:])
	}
	checkErrors(t, c2)
	raw = h2.rawRead(funcBus, regTestRO, 4, 8)
	if !bytes.Equal(raw[4:], bytes.Repeat([]byte{0xFF}, 8)) {
		t.Fatalf("bytes past a transaction without status: % X, want FF (not driven)", raw[4:])
	}
	checkErrors(t, c2, "8 bytes clocked past its end")
}

// The window starts at 0; selecting 0x18000000 shows the chip ID 0xA9AF
// in chipcommon, with or without the 2/4-byte access flag (bit 15).
func TestBus_WindowAndChipID(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	if w := h.read(funcBack, f1WinLow, 3); !bytes.Equal(w, []byte{0, 0, 0}) {
		t.Fatalf("power-on window % X, want 0", w)
	}
	h.setWindow(chipCommon)
	if id := h.read16(funcBack, 0); id != chipIDValue {
		t.Fatalf("chip ID 0x%04X, want 0xA9AF", id)
	}
	if id := h.read32(funcBack, f1AccessFlag) & 0xFFFF; id != chipIDValue {
		t.Fatalf("chip ID with the access flag 0x%04X", id)
	}
	checkErrors(t, c)
}

// The registers the drivers only store read back: watermark, pull-ups,
// wake-up control, KSO (with device-on following it), SRAM remap, the
// clock CSR's ALP request, F0 response delays.
func TestBus_StoredRegisters(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.write8(funcBack, f1PullUp, 0x0F)
	h.write8(funcBack, f1WakeupCtrl, 0x02)
	h.write8(funcBack, f1SleepCSR, sleepKSO)
	if v := h.read(funcBack, f1PullUp, 1)[0]; v != 0x0F {
		t.Fatalf("pull-ups 0x%02X", v)
	}
	if v := h.read8(funcBack, f1WakeupCtrl); v != 0x02 {
		t.Fatalf("wakeup ctrl 0x%02X", v)
	}
	if v := h.read8(funcBack, f1SleepCSR); v&3 != 3 {
		t.Fatalf("sleep CSR 0x%02X, want KSO and device-on", v)
	}
	h.write8(funcBack, f1ClockCSR, csrALPReq)
	if v := h.read8(funcBack, f1ClockCSR); v != csrALPReq|csrALPAvail {
		t.Fatalf("clock CSR 0x%02X, want ALP request + ALP avail", v)
	}
	if v := h.read8(funcBus, regRespDelay0+1); v != 4 {
		t.Fatalf("F1 response delay %d", v)
	}
	if v := h.read16(funcBus, regIntEnable); v != 0x00BE {
		t.Fatalf("interrupt enable 0x%04X", v)
	}
	h.resetCore(socsramWrap)
	h.bpWrite32(socsramBankIx, 3)
	if v := h.bpRead32(socsramBankIx); v != 3 {
		t.Fatalf("SOCSRAM bank index %d", v)
	}
	checkErrors(t, c)
}

// WL_REG_ON low: the chip is off (the bus reads 0xFF, a transaction is
// misuse); raising it again gives a chip in 16-bit mode with all state
// lost.
func TestBus_PowerCycle(t *testing.T) {
	c, h := newChip(t, nil, nil)
	raw := h.rawRead(funcBus, regTestRO, 4, 0)
	if !bytes.Equal(raw, []byte{0xFF, 0xFF, 0xFF, 0xFF}) {
		t.Fatalf("bus of a chip that is off: % X", raw)
	}
	checkErrors(t, c, "WL_REG_ON is low")
	c2, h2 := newChip(t, nil, nil)
	h2.busInit(busNichost)
	h2.write32(funcBus, regTestRW, 0xCAFEF00D)
	h2.power(false)
	h2.power(true)
	if v := h2.read32(funcBus, regTestRO); v != testPattern {
		t.Fatalf("after a power cycle the chip is not in 16-bit mode: 0x%08X", v)
	}
	if v := h2.read32(funcBus, regTestRW); v != 0 {
		t.Fatalf("F0 0x18 survived a power cycle: 0x%08X", v)
	}
	if s := c2.Stats(); s.PowerUps != 2 {
		t.Fatalf("power-ups %d", s.PowerUps)
	}
	checkErrors(t, c2)
}

// The firmware reads back exactly (embassy verifies samples), and the
// NVRAM token too.
func TestBoot_FirmwareAndNVRAMReadBack(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	fw := testFirmware(40000) // crosses a 32 KB window
	h.download(fw, testNVRAM, true)
	for _, off := range []int{0, len(fw) / 3, 2 * len(fw) / 3, 32768 - 64, 32768, len(fw) - 64} {
		if got := h.bpRead(uint32(off), 64); !bytes.Equal(got, fw[off:off+64]) {
			t.Fatalf("firmware at 0x%05X reads % X, want % X", off, got[:8], fw[off:off+8])
		}
	}
	w := uint32((len(testNVRAM) + 3) / 4)
	if tok := h.bpRead32(nvramToken); tok != ^w<<16|w {
		t.Fatalf("token 0x%08X", tok)
	}
	n := 4 * w
	if got := h.bpRead(ramSize-4-n, 4); !bytes.Equal(got, []byte("NVRA")) {
		t.Fatalf("first NVRAM word %q", got)
	}
	checkErrors(t, c)
}

// Releasing the ARM starts the firmware: HT avail comes 5 ms later on the
// radio clock, then F2 is ready.
func TestBoot_HTAvail(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.download(testFirmware(8192), testNVRAM, true)
	h.resetCore(armWrapper)
	h.clk.Advance(4 * 1e6)
	if h.read8(funcBack, f1ClockCSR)&csrHTAvail != 0 || c.Booted() {
		t.Fatal("HT avail before 5 ms")
	}
	if h.last&stF2RxReady != 0 {
		t.Fatal("F2 ready before HT")
	}
	h.clk.Advance(1e6)
	if h.read8(funcBack, f1ClockCSR)&csrHTAvail == 0 || !c.Booted() {
		t.Fatal("no HT avail 5 ms after the release")
	}
	if h.last&stF2RxReady == 0 {
		t.Fatalf("trailing status 0x%08X without F2 RX ready", h.last)
	}
	if v := h.read16(funcBus, regF2Info); v != infoEnabled|infoReady {
		t.Fatalf("F2 info 0x%04X", v)
	}
	checkErrors(t, c)
}

// A driver may write the NVRAM's last word in part, as embassy writes its
// 742-byte file under a token of 186 words: the chip boots.
func TestBoot_UnpaddedNVRAM(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.busInit(busNichost)
	h.download(testFirmware(8190), nil, false) // the firmware's last word in part too
	nvram := append([]byte("NVRAM"), bytes.Repeat([]byte("x"), 737)...)
	w := uint32((len(nvram) + 3) / 4)
	h.bpWrite(ramSize-4-4*w, nvram)
	h.bpWrite32(nvramToken, ^w<<16|w)
	h.resetCore(armWrapper)
	h.clk.Advance(5 * 1e6)
	if !c.Booted() || c.Dead() {
		t.Fatalf("booted %v, dead %v, after an unpadded NVRAM of %d bytes under a token of %d words", c.Booted(), c.Dead(), len(nvram), w)
	}
	checkErrors(t, c)
}

// A release without the NVRAM token, or without firmware, leaves the chip
// dead: HT never comes, and it is misuse naming what was missing.
func TestBoot_Dead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fw    []byte
		token bool
		err   string
	}{
		{"no token", testFirmware(8192), false, "no NVRAM length token written at 0x7FFFC"},
		{"no firmware", nil, true, "no firmware written at RAM address 0"},
		{"short firmware", testFirmware(1024), true, "only 1024 bytes of firmware"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, h := newChip(t, nil, nil)
			h.busInit(busNichost)
			h.download(tc.fw, testNVRAM, tc.token)
			h.resetCore(armWrapper)
			h.clk.Advance(1e9)
			if h.read8(funcBack, f1ClockCSR)&csrHTAvail != 0 || c.Booted() || !c.Dead() {
				t.Fatal("a chip released without a valid image came up")
			}
			checkErrors(t, c, tc.err)
		})
	}
}

// The IRQ line is high while an enabled interrupt is pending and CS is
// released; F2 packet available stays asserted while a frame waits, even
// after the host clears it.
func TestBus_IRQLevel(t *testing.T) {
	c, h := newChip(t, nil, nil)
	h.bringUp(busC)
	irq := c.IRQ()
	if err := irq.In(gpio.PullNoChange, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	if irq.Read() != gpio.Low {
		t.Fatal("IRQ high with nothing pending")
	}
	h.id++
	p := make([]byte, cdcHeaderLen+20)
	le := le32(wlcGetVar)
	copy(p, le)
	p[4] = 20
	p[8+2] = byte(h.id)
	copy(p[cdcHeaderLen:], "cur_etheraddr\x00")
	h.sendFrame(chanControl, sdpcmHeaderLen, p)
	if irq.Read() != gpio.High {
		t.Fatal("IRQ low with a response waiting")
	}
	if !irq.WaitForEdge(0) {
		t.Fatal("no rising edge")
	}
	h.write16(funcBus, regIntStatus, intF2Packet)
	if v := h.read16(funcBus, regIntStatus); v&intF2Packet == 0 {
		t.Fatalf("F2 packet available cleared while a frame waits: 0x%04X", v)
	}
	// During a transaction the line is the data line: not the IRQ.
	s := sim.NewSPI(c)
	if err := s.TxPackets([]spi.Packet{{W: h.cmd(false, funcBus, regTestRO, 4), KeepCS: true}}); err != nil {
		t.Fatal(err)
	}
	if irq.Read() != gpio.Low {
		t.Fatal("IRQ high while CS is asserted")
	}
	if err := s.TxPackets([]spi.Packet{{R: make([]byte, 4)}}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if irq.Read() != gpio.Low {
		t.Fatal("IRQ high after the queue was drained")
	}
	h.write16(funcBus, regIntEnable, 0)
	checkErrors(t, c)
}
