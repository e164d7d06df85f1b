package driver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nichost/nichost/abi"
)

// The chip's bring-up (fact sheet 1.5, 2.4, 2.5, 3, 5.2) as a list of
// steps that Poll runs in turn. A step either finishes (the next one runs
// after the delay it returns) or asks to run again after the delay (a
// register it polls, a firmware upload in pieces). Every wait is a timer
// poll or a sleep of at most a millisecond or two inside a step: no call
// comes near its deadline.

// Timing of the bring-up.
const (
	powerOffTime  = 20 * time.Millisecond  // WL_REG_ON low
	powerOnTime   = 250 * time.Millisecond // WL_REG_ON high, before the first access
	probeTimeout  = 200 * time.Millisecond // the test register must read 0xFEEDBEAD by then
	alpTimeout    = 100 * time.Millisecond
	htTimeout     = 500 * time.Millisecond
	f2Timeout     = time.Second
	initTimeout   = 5 * time.Second // CLM and the init ioctls
	regPoll       = time.Millisecond
	uploadPerPoll = 32 << 10              // firmware bytes written per poll
	countryWait   = 60 * time.Millisecond // after the country iovar (fact sheet 5.2 step 2)
	yield         = time.Nanosecond       // a step that wants the next poll at once
)

// Backplane addresses (fact sheet 2.3).
const (
	ramSize       = 0x80000
	nvramToken    = ramSize - 4
	sdioHostMask  = 0x18002024
	armWrapper    = 0x18103000
	socsramWrap   = 0x18104000
	socsramBankIx = 0x18004010
	socsramPDA    = 0x18004044
	wrapIOCtrl    = 0x408
	wrapResetCtrl = 0x800

	ioClockEn   = 0x01
	ioFGC       = 0x02
	resetInside = 0x01
)

// Blob size limits: what active(True) checks at once.
const (
	minFirmware = 4 << 10 // the spec's boot rule; the real image is about 219 KiB
	minCLM      = 64
	maxCLM      = 64 << 10
	maxNVRAM    = 8 << 10
)

// step is one bring-up step: it returns the delay before the next step
// (done) or before it runs again (not done).
type step struct {
	name string
	run  func(d *Driver, now time.Duration) (delay time.Duration, done bool, err error)
}

// bringUp is a bring-up in progress.
type bringUp struct {
	step  int
	at    time.Duration // when the current step runs (again)
	since time.Duration // when it first ran
	first bool          // the current step has not run yet

	fwSize  int64
	fwOff   int64
	fwBuf   []byte
	clm     []byte
	nvram   []byte
	initErr error // a fatal init ioctl error
	inited  bool  // the last init ioctl answered
}

var steps = []step{
	{"power off (WL_REG_ON low)", stepPowerOff},
	{"power on (WL_REG_ON high)", stepPowerOn},
	{"test register (16-bit mode)", stepProbe},
	{"bus mode switch", stepSwitch},
	{"bus registers and ALP request", stepBusRegs},
	{"ALP clock", stepALP},
	{"core reset", stepCores},
	{"firmware upload", stepFirmware},
	{"NVRAM", stepNVRAM},
	{"ARM start", stepARM},
	{"HT clock", stepHT},
	{"interrupts", stepInterrupts},
	{"F2 ready", stepF2},
	{"housekeeping", stepHousekeeping},
	{"HT request", stepHT2},
	{"CLM and init", stepInit},
	{"init replies", stepInitWait},
}

// checkBlobs reads the blob sizes (cheap) and the CLM and NVRAM, so that
// active(True) refuses a blob that cannot boot the chip at once.
func (d *Driver) checkBlobs(b *bringUp) error {
	n, err := d.fw.Size()
	if err != nil {
		return abi.OSError(abi.EIO, "cyw43439: firmware blob: %v", err)
	}
	if n < minFirmware {
		return abi.OSError(abi.EINVAL, "cyw43439: firmware blob: %d bytes, too short (a CYW43439 WLAN firmware image is about 224 KB; at least %d bytes)", n, minFirmware)
	}
	b.fwSize = n
	n, err = d.clm.Size()
	if err != nil {
		return abi.OSError(abi.EIO, "cyw43439: clm blob: %v", err)
	}
	if n < minCLM || n > maxCLM {
		return abi.OSError(abi.EINVAL, "cyw43439: clm blob: %d bytes, too short or too long (a CYW43439 CLM is about 1 KB; %d to %d bytes)", n, minCLM, maxCLM)
	}
	b.clm = make([]byte, n)
	if k, err := d.clm.ReadAt(b.clm, 0); err != nil {
		return abi.OSError(abi.EIO, "cyw43439: clm blob: read %d of %d bytes: %v", k, n, err)
	}
	b.nvram = defaultNVRAM()
	if d.hasNVRAM {
		n, err = d.nv.Size()
		if err != nil {
			return abi.OSError(abi.EIO, "cyw43439: nvram blob: %v", err)
		}
		if n < 4 || n > maxNVRAM {
			return abi.OSError(abi.EINVAL, "cyw43439: nvram blob: %d bytes (a board file is about 1 KB; 4 to %d bytes)", n, maxNVRAM)
		}
		nv := make([]byte, n)
		if k, err := d.nv.ReadAt(nv, 0); err != nil {
			return abi.OSError(abi.EIO, "cyw43439: nvram blob: read %d of %d bytes: %v", k, n, err)
		}
		b.nvram = nvramImage(nv)
	}
	if b.fwSize > int64(nvramToken-len(b.nvram)) {
		return abi.OSError(abi.EINVAL, "cyw43439: firmware blob: %d bytes and %d of NVRAM do not fit the chip's 512 KB of RAM", b.fwSize, len(b.nvram))
	}
	return nil
}

// startBringUp begins the bring-up; Poll runs it.
func (d *Driver) startBringUp(b *bringUp) {
	b.step, b.first = 0, true
	b.at = d.env.Now()
	d.up = b
	d.chipUp, d.ready = false, false
	d.ctl.reset()
	d.g.reset()
	d.event("bring-up: %d bytes of firmware, %d of CLM, %d of NVRAM", b.fwSize, len(b.clm), len(b.nvram))
}

// advanceBringUp runs the steps that are due. Within one call it runs on
// while steps finish without a delay.
func (d *Driver) advanceBringUp() {
	for d.up != nil {
		b := d.up
		now := d.env.Now()
		if now < b.at {
			return
		}
		if b.first {
			b.since, b.first = now, false
		}
		s := steps[b.step]
		delay, done, err := s.run(d, now)
		if err != nil {
			d.bringUpFailed(s.name, err)
			return
		}
		if done {
			b.step++
			b.first = true
			if b.step == len(steps) {
				d.up = nil
				d.ready = true
				d.onReady()
				return
			}
		}
		b.at = d.env.Now() + delay
		if delay > 0 {
			return
		}
	}
}

// bringUpFailed gives up: the chip is powered off again, both interfaces
// inactive (an access point waiting for it reads status() -1); the error
// stays for status and the next calls to show.
func (d *Driver) bringUpFailed(stepName string, err error) {
	var e *abi.Error
	if !errors.As(err, &e) {
		e = abi.OSError(abi.EIO, "%v", err)
	}
	e = &abi.Error{Kind: e.Kind, Errno: e.Errno, Msg: fmt.Sprintf("%s (bring-up step %q)", e.Msg, stepName)}
	d.env.Logf(abi.LogError, "%s", e.Msg)
	d.fault = e
	ap := d.ap.on
	d.powerDown()
	if ap {
		d.ap.phase = apFailed
	}
	d.joinFailed(statusFail, "the chip did not come up: "+e.Msg)
}

// timedOut reports whether the current step has run for longer than t.
func (b *bringUp) timedOut(now, t time.Duration) bool { return now-b.since > t }

func stepPowerOff(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	if err := d.on.Write(false); err != nil {
		return 0, false, err
	}
	d.g.reset()
	return powerOffTime, true, nil
}

func stepPowerOn(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	if err := d.on.Write(true); err != nil {
		return 0, false, err
	}
	d.g.reset()
	return powerOnTime, true, nil
}

func stepProbe(d *Driver, now time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	v := g.read(fnBus, f0TestRO, 4)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if got := le32(v); got != testPattern {
		if d.up.timedOut(now, probeTimeout) {
			return 0, false, abi.OSError(abi.ETIMEDOUT, "cyw43439: no chip answers on the spi bus: the gSPI test register reads 0x%08X, want 0xFEEDBEAD", got)
		}
		return regPoll, false, nil
	}
	return 0, true, nil
}

func stepSwitch(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	g.write32(fnBus, f0TestRW, testValue)
	g.write32(fnBus, f0BusCtrl, busSetup)
	// From here on: 32-bit big-endian units and a status word after every
	// transaction.
	g.word16, g.statusOn = false, true
	ro := g.read(fnBus, f0TestRO, 4)
	rw := g.read(fnBus, f0TestRW, 4)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if le32(ro) != testPattern || le32(rw) != testValue {
		return 0, false, abi.OSError(abi.EIO, "cyw43439: after the switch to 32-bit mode the test registers read 0x%08X and 0x%08X, want 0xFEEDBEAD and 0x%08X", le32(ro), le32(rw), testValue)
	}
	return 0, true, nil
}

func stepBusRegs(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	g.write8(fnBus, f0RespDelay1, 4)
	g.write16(fnBus, f0IntStatus, intClearAll)
	g.write16(fnBus, f0IntEnable, intEnable)
	g.write8(fnBackplane, f1ClockCSR, csrALPReq)
	g.write8(fnBackplane, f1Watermark, 0x10)
	wm := g.read(fnBackplane, f1Watermark, 1)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if wm[0] != 0x10 {
		return 0, false, abi.OSError(abi.EIO, "cyw43439: the F2 watermark reads back 0x%02X, want 0x10: backplane writes do not take", wm[0])
	}
	return 0, true, nil
}

func stepALP(d *Driver, now time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	csr := g.read(fnBackplane, f1ClockCSR, 1)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if csr[0]&csrALPAvail == 0 {
		if d.up.timedOut(now, alpTimeout) {
			return 0, false, abi.OSError(abi.ETIMEDOUT, "cyw43439: the ALP clock never came (clock CSR 0x%02X)", csr[0])
		}
		return regPoll, false, nil
	}
	g.begin()
	g.write8(fnBackplane, f1ClockCSR, 0)
	return 0, true, g.run()
}

// coreDisable puts the core whose wrapper is at w in reset (fact sheet
// 2.4), unless it already is.
func (d *Driver) coreDisable(w uint32) error {
	g := d.g
	g.begin()
	g.bpRead(w+wrapResetCtrl, 1) // the first read is a dummy
	r := g.bpRead(w+wrapResetCtrl, 1)
	if err := g.run(); err != nil {
		return err
	}
	if r[0]&resetInside != 0 {
		return nil
	}
	g.begin()
	g.bpWrite8(w+wrapIOCtrl, 0)
	g.bpRead(w+wrapIOCtrl, 1)
	if err := g.run(); err != nil {
		return err
	}
	d.pause(time.Millisecond)
	g.begin()
	g.bpWrite8(w+wrapResetCtrl, resetInside)
	if err := g.run(); err != nil {
		return err
	}
	d.pause(time.Millisecond)
	return nil
}

// coreReset disables the core and takes it out of reset (fact sheet 2.4);
// for the WLAN ARM this starts the firmware.
func (d *Driver) coreReset(w uint32) error {
	if err := d.coreDisable(w); err != nil {
		return err
	}
	g := d.g
	g.begin()
	g.bpWrite8(w+wrapIOCtrl, ioFGC|ioClockEn)
	g.bpRead(w+wrapIOCtrl, 1)
	g.bpWrite8(w+wrapResetCtrl, 0)
	if err := g.run(); err != nil {
		return err
	}
	d.pause(time.Millisecond)
	g.begin()
	g.bpWrite8(w+wrapIOCtrl, ioClockEn)
	g.bpRead(w+wrapIOCtrl, 1)
	if err := g.run(); err != nil {
		return err
	}
	d.pause(time.Millisecond)
	return nil
}

// coreIsUp is the up check of fact sheet 2.4.
func (d *Driver) coreIsUp(w uint32) (bool, error) {
	g := d.g
	g.begin()
	io := g.bpRead(w+wrapIOCtrl, 1)
	rs := g.bpRead(w+wrapResetCtrl, 1)
	if err := g.run(); err != nil {
		return false, err
	}
	return io[0]&(ioFGC|ioClockEn) == ioClockEn && rs[0]&resetInside == 0, nil
}

func stepCores(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	if err := d.coreDisable(armWrapper); err != nil {
		return 0, false, err
	}
	if err := d.coreReset(socsramWrap); err != nil {
		return 0, false, err
	}
	// SRAM_3 remap off (43439 only).
	g := d.g
	g.begin()
	g.bpWrite32(socsramBankIx, 3)
	g.bpWrite32(socsramPDA, 0)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	return 0, true, nil
}

// bpWriteBlock writes data at backplane address addr in F1 transactions of
// at most 64 bytes that never cross a 32 KB window (data's length is a
// multiple of 4).
func (g *gspi) bpWriteBlock(addr uint32, data []byte) {
	for len(data) > 0 {
		n := min(len(data), f1Max, int(f1WindowMask+1-(addr&f1WindowMask)))
		g.bpWrite(addr, data[:n])
		addr += uint32(n)
		data = data[n:]
	}
}

func stepFirmware(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	b := d.up
	n := min(int64(uploadPerPoll), b.fwSize-b.fwOff)
	if cap(b.fwBuf) < unitLen(uploadPerPoll) {
		b.fwBuf = make([]byte, unitLen(uploadPerPoll))
	}
	buf := b.fwBuf[:unitLen(int(n))]
	clear(buf)
	if k, err := d.fw.ReadAt(buf[:n], b.fwOff); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, false, abi.OSError(abi.EIO, "cyw43439: firmware blob: read %d of %d bytes at offset %d: the blob ended early (it said %d bytes)", k, n, b.fwOff, b.fwSize)
		}
		return 0, false, abi.OSError(abi.EIO, "cyw43439: firmware blob: read %d of %d bytes at offset %d: %v", k, n, b.fwOff, err)
	}
	g := d.g
	g.begin()
	g.bpWriteBlock(uint32(b.fwOff), buf)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	b.fwOff += n
	if b.fwOff < b.fwSize {
		return yield, false, nil
	}
	// Read samples back: the start, the middle and the end.
	for _, off := range []int64{0, (b.fwSize / 2) &^ 63, (b.fwSize - 16) &^ 3} {
		want := make([]byte, 16)
		k, _ := d.fw.ReadAt(want, off)
		g.begin()
		got := g.bpRead(uint32(off), 16)
		if err := g.run(); err != nil {
			return 0, false, err
		}
		if !bytes.Equal(got[:k], want[:k]) {
			return 0, false, abi.OSError(abi.EIO, "cyw43439: firmware read back at 0x%05X as % x, written % x", off, got[:k], want[:k])
		}
	}
	d.event("firmware: %d bytes written to RAM in %d spi_transact calls so far", b.fwSize, g.calls)
	return 0, true, nil
}

func stepNVRAM(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	nv := d.up.nvram
	addr := uint32(nvramToken - len(nv))
	words := uint32(len(nv) / 4)
	token := (^words)<<16 | words&0xFFFF
	g := d.g
	g.begin()
	g.bpWriteBlock(addr, nv)
	g.bpWrite32(nvramToken, token)
	got := g.bpRead(nvramToken, 4)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if le32(got) != token {
		return 0, false, abi.OSError(abi.EIO, "cyw43439: the NVRAM length token reads back 0x%08X, written 0x%08X", le32(got), token)
	}
	return 0, true, nil
}

func stepARM(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	if err := d.coreReset(armWrapper); err != nil {
		return 0, false, err
	}
	up, err := d.coreIsUp(armWrapper)
	if err != nil {
		return 0, false, err
	}
	if !up {
		return 0, false, abi.OSError(abi.EIO, "cyw43439: the WLAN ARM core is not up after its reset")
	}
	return regPoll, true, nil
}

func stepHT(d *Driver, now time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	csr := g.read(fnBackplane, f1ClockCSR, 1)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if csr[0]&csrHTAvail == 0 {
		if d.up.timedOut(now, htTimeout) {
			return 0, false, abi.OSError(abi.ETIMEDOUT, "cyw43439: the firmware did not start (no HT clock %v after the ARM was released): is the firmware blob a CYW43439 WLAN image?", htTimeout)
		}
		return regPoll, false, nil
	}
	return 0, true, nil
}

func stepInterrupts(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	g.bpWrite32(sdioHostMask, 0xF0)
	g.write8(fnBackplane, f1Watermark, 0x20)
	return 0, true, g.run()
}

func stepF2(d *Driver, now time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	g.read(fnBus, f0Status, 4)
	if err := g.run(); err != nil {
		return 0, false, err
	}
	if g.status&stF2RxReady == 0 {
		if d.up.timedOut(now, f2Timeout) {
			return 0, false, abi.OSError(abi.ETIMEDOUT, "cyw43439: F2 never became ready (status 0x%08X)", g.status)
		}
		return regPoll, false, nil
	}
	return 0, true, nil
}

func stepHousekeeping(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	g := d.g
	g.begin()
	g.write8(fnBackplane, f1PullUp, 0)
	g.read(fnBackplane, f1PullUp, 1)
	g.write8(fnBackplane, f1ClockCSR, csrHTReq)
	return 0, true, g.run()
}

func stepHT2(d *Driver, now time.Duration) (time.Duration, bool, error) {
	delay, done, err := stepHT(d, now)
	if done {
		d.chipUp = true // F2 moves from here on: service and pump run
	}
	return delay, done, err
}

// clmChunk is the CLM download's chunk size on SPI (fact sheet 3).
const clmChunk = 1024

func stepInit(d *Driver, _ time.Duration) (time.Duration, bool, error) {
	b := d.up
	clm := b.clm
	for off := 0; off < len(clm); off += clmChunk {
		chunk := clm[off:min(len(clm), off+clmChunk)]
		flag := uint16(0x1000)
		if off == 0 {
			flag |= 0x0002
		}
		if off+clmChunk >= len(clm) {
			flag |= 0x0004
		}
		hdr := make([]byte, 12, 12+len(chunk))
		binary.LittleEndian.PutUint16(hdr[0:], flag)
		binary.LittleEndian.PutUint16(hdr[2:], 2) // type: CLM
		binary.LittleEndian.PutUint32(hdr[4:], uint32(len(chunk)))
		io := iovarSet("clmload", append(hdr, chunk...))
		at := off
		io.done = func(_ []byte, err error) {
			if err != nil && b.initErr == nil {
				b.initErr = fmt.Errorf("clm blob: the firmware refused the chunk at offset %d: %w", at, err)
			}
		}
		d.enqueue(io)
	}
	st := iovarGet("clmload_status", 4)
	st.done = func(data []byte, err error) {
		switch {
		case err != nil && b.initErr == nil:
			b.initErr = fmt.Errorf("clmload_status: %w", err)
		case err == nil && (len(data) < 4 || le32(data) != 0) && b.initErr == nil:
			b.initErr = fmt.Errorf("clm blob: the firmware did not take it (clmload_status % x)", data)
		}
	}
	d.enqueue(st)
	d.enqueue(iovarU32("bus:txglom", 0), iovarU32("apsta", 1))
	mac := iovarGet("cur_etheraddr", 6)
	mac.done = func(data []byte, err error) {
		if err == nil && len(data) >= 6 {
			d.event("the chip's own MAC address is %x; setting the host's, %x", data[:6], d.mac)
		}
	}
	d.enqueue(mac, iovarSet("cur_etheraddr", append([]byte(nil), d.mac...)))
	d.enqueue(d.countryIoctls()...)
	d.enqueue(wlc("WLC_SET_ANTDIV", wlcSetAntdiv, true, uint32(d.cfg.antenna)),
		iovarU32("ampdu_ba_wsize", 8), iovarU32("ampdu_mpdu", 4),
		iovarSet("bsscfg:event_msgs", eventMask()))
	upIo := wlc("WLC_UP", wlcUp, true)
	upIo.done = func(_ []byte, err error) {
		if err != nil && b.initErr == nil {
			b.initErr = err
		}
	}
	d.enqueue(upIo)
	d.enqueue(d.phyIoctls()...)
	d.enqueue(wlc("WLC_SET_BAND", wlcSetBand, true, 0))
	d.enqueue(d.pmIoctls()...)
	d.enqueue(d.txpowerIoctls()...)
	last := iovarGet("cur_etheraddr", 6)
	last.done = func([]byte, error) { b.inited = true }
	d.enqueue(last)
	return 0, true, nil
}

func stepInitWait(d *Driver, now time.Duration) (time.Duration, bool, error) {
	b := d.up
	if b.initErr != nil {
		return 0, false, b.initErr
	}
	if b.inited {
		return 0, true, nil
	}
	if b.timedOut(now, initTimeout) {
		return 0, false, abi.OSError(abi.ETIMEDOUT, "cyw43439: the firmware did not answer the init ioctls in %v", initTimeout)
	}
	return 2 * time.Millisecond, false, nil
}

// eventMask is the bsscfg:event_msgs value: bsscfg 0 and a bitmap of
// the events to deliver: all but those the drivers leave out (fact sheet
// 5.2 step 4). The mask gates the events of both interfaces; it keeps
// those the access point needs: DEAUTH_IND (6), ASSOC_IND (8),
// REASSOC_IND (10), DISASSOC_IND (12) and LINK (16).
func eventMask() []byte {
	b := make([]byte, 4+24)
	m := b[4:]
	for i := range m {
		m[i] = 0xFF
	}
	for _, ev := range []int{19, 20, 40, 44, 54, 71} {
		m[ev/8] &^= 1 << (ev % 8)
	}
	return b
}
