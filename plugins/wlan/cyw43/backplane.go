package cyw43

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// backplane is the F1 side: local registers, the window, the SoC's RAM
// and core registers, and the boot state.
type backplane struct {
	local   [0x20]byte      // F1 local registers 0x10000..0x1001F
	other   map[uint32]byte // other F1 local addresses: stored
	regs    map[uint32]byte // backplane registers at 0x18000000 and up: stored
	ram     []byte
	written []uint64 // one bit per 4-byte RAM word written since power-up

	armIO, armReset   byte // WLAN ARM wrapper IOCTRL, RESETCTRL
	sramIO, sramReset byte // SOCSRAM wrapper

	alpAvail   bool
	htAvail    bool
	f2Ready    bool
	armStarted bool // released from reset with its clock on and no halt
	dead       bool // released without a valid image: HT never comes
	releasedAt time.Time
}

func (b *backplane) reset() {
	*b = backplane{
		other:     map[uint32]byte{},
		regs:      map[uint32]byte{},
		ram:       make([]byte, ramSize),
		written:   make([]uint64, ramSize/4/64),
		armReset:  resetInside,
		sramReset: resetInside,
	}
}

func (b *backplane) armRunning() bool { return b.armStarted && !b.dead }

// window is the backplane base the F1 window selects (bits 31:15).
func (b *backplane) window() uint32 {
	w := uint32(b.local[f1WinLow-f1Local])<<8 | uint32(b.local[f1WinMid-f1Local])<<16 | uint32(b.local[f1WinHigh-f1Local])<<24
	return w &^ f1WindowMask
}

// f1Check applies the F1 transfer rules; ok false means the transfer is
// refused (more than 64 bytes: F1 overflow). Caller holds mu.
func (c *Chip) f1Check(addr uint32, n int, write bool) bool {
	if n > f1MaxTransfer {
		c.misuse(ruleF1Size, "F1 %s of %d bytes at 0x%05X: more than %d bytes per transaction (F1 overflow; %s)",
			rw(write), n, addr, f1MaxTransfer, map[bool]string{true: "the write is ignored", false: "the data reads 0"}[write])
		c.raise(intF1Overflow)
		return false
	}
	if addr < f1Local {
		off := addr & f1WindowMask
		if int(off)+n > f1WindowSize {
			c.misuse(ruleF1Size, "F1 %s of %d bytes at window offset 0x%04X (backplane 0x%08X) crosses the 32 KB window; the address wraps inside the window",
				rw(write), n, off, c.bp.window()|off)
		}
	}
	return true
}

// f1Read fills out from F1 address addr. Caller holds mu.
func (c *Chip) f1Read(addr uint32, out []byte) {
	if !c.f1Check(addr, len(out), false) {
		return
	}
	if addr >= f1Local {
		for i := range out {
			out[i] = c.localRead(addr + uint32(i))
		}
		return
	}
	win := c.bp.window()
	for i := range out {
		out[i] = c.bpRead(win | (addr+uint32(i))&f1WindowMask)
	}
}

// f1Write writes data at F1 address addr. Caller holds mu.
func (c *Chip) f1Write(addr uint32, data []byte) {
	if !c.f1Check(addr, len(data), true) {
		return
	}
	if addr >= f1Local {
		for i, v := range data {
			c.localWrite(addr+uint32(i), v)
		}
		return
	}
	win := c.bp.window()
	off := addr & f1WindowMask
	// At most two contiguous pieces (a transfer wrapping in the window).
	first := min(len(data), int(f1WindowSize-off))
	c.bpWrite(win|off, data[:first])
	if first < len(data) {
		c.bpWrite(win, data[first:])
	}
}

// localRead reads an F1 local register. Caller holds mu.
func (c *Chip) localRead(a uint32) byte {
	a &^= f1AccessFlag
	if a < f1Local || a >= f1Local+uint32(len(c.bp.local)) {
		return c.bp.other[a]
	}
	v := c.bp.local[a-f1Local]
	switch a {
	case f1ClockCSR:
		if c.bp.alpAvail {
			v |= csrALPAvail
		}
		if c.bp.htAvail {
			v |= csrHTAvail
		}
	case f1SleepCSR:
		if v&sleepKSO != 0 {
			v |= sleepDeviceOn
		}
	}
	return v
}

// localWrite writes an F1 local register. Caller holds mu.
func (c *Chip) localWrite(a uint32, v byte) {
	a &^= f1AccessFlag
	if a < f1Local || a >= f1Local+uint32(len(c.bp.local)) {
		c.bp.other[a] = v
		return
	}
	switch a {
	case f1ClockCSR:
		v &^= csrALPAvail | csrHTAvail
		if v&(csrALPReq|csrForceALP|csrHTReq|csrForceHT) != 0 && !c.bp.alpAvail {
			c.bp.alpAvail = true
			c.log.Info("ALP clock available")
		}
	case f1FrameCtrl:
		if v&frameCtrlDiscard != 0 {
			c.sd.discardHead(c)
		}
		v = 0 // self-clearing
	case f1WinLow, f1WinMid, f1WinHigh:
		c.bp.local[a-f1Local] = v
		c.log.Debug("backplane window", "base", fmt.Sprintf("0x%08X", c.bp.window()))
		return
	}
	c.bp.local[a-f1Local] = v
}

// bpRead reads one backplane byte. Caller holds mu.
func (c *Chip) bpRead(a uint32) byte {
	switch {
	case a < ramSize:
		if c.bp.sramReset&resetInside != 0 {
			if c.tx.once("sramrd") {
				c.misuse(ruleSOCSRAM, "RAM read at 0x%05X while the SOCSRAM core is in reset (reads 0)", a)
			}
			return 0
		}
		return c.bp.ram[a]
	case a < chipCommon:
		if c.tx.once("unmapped") {
			c.misuse(ruleRAMRange, "backplane read at 0x%08X: nothing is mapped there (reads 0)", a)
		}
		return 0
	case a >= chipCommon && a < chipCommon+4:
		return byte(uint32(chipIDValue) >> (8 * (a - chipCommon)))
	case a == armWrapper+wrapIOCtrl:
		return c.bp.armIO
	case a == armWrapper+wrapResetCtrl:
		return c.bp.armReset
	case a == socsramWrap+wrapIOCtrl:
		return c.bp.sramIO
	case a == socsramWrap+wrapResetCtrl:
		return c.bp.sramReset
	case a >= armWrapper+wrapResetStat && a < armWrapper+wrapResetStat+4,
		a >= socsramWrap+wrapResetStat && a < socsramWrap+wrapResetStat+4:
		return 0
	}
	return c.bp.regs[a]
}

// bpWrite writes contiguous backplane bytes. Caller holds mu.
func (c *Chip) bpWrite(a uint32, data []byte) {
	if a < ramSize {
		c.ramWrite(a, data)
		return
	}
	for i, v := range data {
		c.bpWriteByte(a+uint32(i), v)
	}
	c.armCheck()
}

// bpWriteByte writes one backplane register byte. Caller holds mu.
func (c *Chip) bpWriteByte(a uint32, v byte) {
	switch {
	case a < chipCommon:
		if c.tx.once("unmapped") {
			c.misuse(ruleRAMRange, "backplane write at 0x%08X: nothing is mapped there (ignored)", a)
		}
	case a >= chipCommon && a < chipCommon+4:
		c.log.Info("write to the chip ID register ignored", "addr", fmt.Sprintf("0x%08X", a))
	case a >= sdioIntStatus && a < sdioIntStatus+4:
		c.bp.regs[a] &^= v // write 1 to clear
	case a == armWrapper+wrapIOCtrl:
		c.bp.armIO = v
	case a == armWrapper+wrapResetCtrl:
		c.bp.armReset = v & resetInside
	case a == socsramWrap+wrapIOCtrl:
		c.bp.sramIO = v
	case a == socsramWrap+wrapResetCtrl:
		c.bp.sramReset = v & resetInside
	default:
		c.bp.regs[a] = v
	}
}

// ramWrite writes RAM, unless the ARM runs or the SOCSRAM is in reset.
// Caller holds mu.
func (c *Chip) ramWrite(a uint32, data []byte) {
	if int(a)+len(data) > ramSize {
		if c.tx.once("unmapped") {
			c.misuse(ruleRAMRange, "RAM write of %d bytes at 0x%05X runs past the 512 KB RAM (the rest is ignored)", len(data), a)
		}
		data = data[:ramSize-int(a)]
	}
	switch {
	case c.bp.armStarted:
		if c.tx.once("ramrun") {
			c.misuse(ruleRAMRun, "RAM write of %d bytes at 0x%05X while the WLAN ARM runs (ignored)", len(data), a)
		}
		return
	case c.bp.sramReset&resetInside != 0:
		if c.tx.once("sramwr") {
			c.misuse(ruleSOCSRAM, "RAM write of %d bytes at 0x%05X while the SOCSRAM core is in reset (ignored)", len(data), a)
		}
		return
	}
	copy(c.bp.ram[a:], data)
	// Mark every word the write touched: a driver may write an image's
	// last word in part (embassy writes its 742-byte NVRAM as it is, under
	// a token of 186 words), and the padding is the chip's.
	for w := a / 4; w*4 < a+uint32(len(data)); w++ {
		c.bp.written[w/64] |= 1 << (w % 64)
	}
}

// wordWritten reports whether RAM word w (address 4w) was written.
func (b *backplane) wordWritten(w uint32) bool { return b.written[w/64]&(1<<(w%64)) != 0 }

// firmwareLen is how many bytes were written contiguously from RAM 0.
func (b *backplane) firmwareLen() int {
	for i, m := range b.written {
		if m != ^uint64(0) {
			return 4 * (64*i + bits.TrailingZeros64(^m))
		}
	}
	return ramSize
}

// armCheck starts the firmware when the ARM leaves reset with its clock
// on and no halt, and stops it when the ARM goes back into reset.
// Caller holds mu.
func (c *Chip) armCheck() {
	b := &c.bp
	inReset := b.armReset&resetInside != 0
	runs := !inReset && b.armIO&ioClockEn != 0 && b.armIO&ioCPUHalt == 0
	switch {
	case runs && !b.armStarted:
		c.release()
	case inReset && b.armStarted:
		c.log.Info("WLAN ARM back in reset: firmware stopped")
		c.gen++ // drop the boot timer and the firmware's timers
		for id, stop := range c.timers {
			stop()
			delete(c.timers, id)
		}
		b.armStarted, b.dead, b.htAvail, b.f2Ready = false, false, false, false
		c.sd.reset()
		c.stopFirmware()
	}
}

// release is the ARM leaving reset: the boot rule decides whether the
// firmware comes up. Caller holds mu.
func (c *Chip) release() {
	b := &c.bp
	b.armStarted = true
	b.releasedAt = c.clk.Now()
	if why := c.bootProblem(); why != "" {
		b.dead = true
		c.misuse(ruleBoot, "WLAN ARM released from reset with %s: the chip stays dead (HT avail never comes)", why)
		return
	}
	c.log.Info("WLAN ARM released: firmware starting", "firmware_bytes", b.firmwareLen())
	c.after(bootToHTDelay*time.Millisecond, func() {
		b.htAvail = true
		b.alpAvail = true
		b.f2Ready = true
		c.stats.Boots++
		c.fw.running = true
		c.log.Info("firmware running: HT avail, F2 ready")
		c.updateIRQ()
	})
}

// bootProblem checks the boot rule; "" when the image is good.
func (c *Chip) bootProblem() string {
	b := &c.bp
	fw := b.firmwareLen()
	if fw < minFirmware {
		if fw == 0 {
			return "no firmware written at RAM address 0"
		}
		return fmt.Sprintf("only %d bytes of firmware written contiguously from RAM address 0 (at least %d needed)", fw, minFirmware)
	}
	if !b.wordWritten(nvramToken / 4) {
		return "no NVRAM length token written at 0x7FFFC"
	}
	tok := binary.LittleEndian.Uint32(b.ram[nvramToken:])
	words := tok & 0xFFFF
	if words == 0 || tok>>16 != ^words&0xFFFF {
		return fmt.Sprintf("an invalid NVRAM length token 0x%08X at 0x7FFFC (want ~W<<16 | W, W = NVRAM length / 4)", tok)
	}
	start := uint32(nvramToken) - 4*words
	if int(start) < fw {
		return fmt.Sprintf("an NVRAM length token 0x%08X that puts the NVRAM (%d bytes at 0x%05X) over the firmware (%d bytes)", tok, 4*words, start, fw)
	}
	for w := start / 4; w < nvramToken/4; w++ {
		if !b.wordWritten(w) {
			return fmt.Sprintf("NVRAM not written at 0x%05X (the token 0x%08X says %d bytes at 0x%05X)", 4*w, tok, 4*words, start)
		}
	}
	return ""
}
