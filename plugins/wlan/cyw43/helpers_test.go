package cyw43

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/wlan/radio"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// host is a small test-side gSPI driver that speaks the wire model from
// the host's side: it builds each unit's wire bytes for the mode it
// believes the bus is in, frames F1 reads with their pad and reads the
// trailing status word when it enabled one.
type host struct {
	t      *testing.T
	c      *Chip
	spi    *sim.SPI
	clk    *radio.Manual
	mode   wireMode
	status bool   // trailing status word enabled
	last   uint32 // last status word seen (trailing or F0 0x08)
	win    uint32 // backplane window the host set (-1 not known: use set)
	winSet bool

	seq    byte
	credit byte
	id     uint16
	events []rxEvent
	data   [][]byte
	dataIf []byte // the BDC flags2 (interface) of each of data
}

// rxEvent is a decoded async event.
type rxEvent struct {
	typ, status, reason, auth uint32
	flags                     uint16
	addr                      net.HardwareAddr
	ifidx, bsscfg             byte
	data                      []byte
}

func (e rxEvent) String() string {
	return fmt.Sprintf("%s(%d) status %d reason %d flags %d", evName(e.typ), e.typ, e.status, e.reason, e.flags)
}

func evName(t uint32) string {
	switch t {
	case evSetSSID:
		return "SET_SSID"
	case evJoin:
		return "JOIN"
	case evAuth:
		return "AUTH"
	case evDeauthInd:
		return "DEAUTH_IND"
	case evAssoc:
		return "ASSOC"
	case evAssocInd:
		return "ASSOC_IND"
	case evReassocInd:
		return "REASSOC_IND"
	case evDisassocInd:
		return "DISASSOC_IND"
	case evDisassoc:
		return "DISASSOC"
	case evLink:
		return "LINK"
	case evPSKSup:
		return "PSK_SUP"
	case evEscanResult:
		return "ESCAN_RESULT"
	}
	return "EV"
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newChip returns a strict chip on a manual clock (with env's clock when
// env is given), logging to the test, and a host for it.
func newChip(t *testing.T, env *radio.Env, clk *radio.Manual) (*Chip, *host) {
	t.Helper()
	return newChipOpts(t, env, clk, Options{})
}

// newChipOpts is newChip with more options (Strict, Logger, Radio and
// Clock are newChip's).
func newChipOpts(t *testing.T, env *radio.Env, clk *radio.Manual, o Options) (*Chip, *host) {
	t.Helper()
	if clk == nil {
		clk = radio.NewManual(t0)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	o.Strict, o.Logger, o.Radio, o.Clock = true, log, env, clk
	c := New(o)
	t.Cleanup(c.Close)
	return c, &host{t: t, c: c, spi: sim.NewSPI(c), clk: clk, credit: initialCredit}
}

// newEnv returns a radio environment on a manual clock.
func newEnv(t *testing.T) (*radio.Env, *radio.Manual) {
	clk := radio.NewManual(t0)
	env := radio.New(radio.Options{Clock: clk, Seed: 1})
	t.Cleanup(env.Close)
	return env, clk
}

// checkErrors fails unless the chip's misuse errors are exactly one per
// want, each containing its want, in order.
func checkErrors(t *testing.T, c *Chip, want ...string) {
	t.Helper()
	errs := c.Errors()
	ok := len(errs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(errs[i].Error(), want[i])
	}
	if !ok {
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		t.Fatalf("misuse errors:\n  %s\nwant %d containing:\n  %s", strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

// wire turns unit bytes (padded to 4) into the host's wire order.
func (h *host) wire(b []byte) []byte {
	w := make([]byte, (len(b)+3)/4*4)
	copy(w, b)
	permute(w, h.mode)
	return w
}

// cmd builds a command word's wire bytes.
func (h *host) cmd(write bool, fn int, addr uint32, n int) []byte {
	v := uint32(cmdIncr) | uint32(fn)<<cmdFuncShift | (addr&cmdAddrMask)<<cmdAddrShift | uint32(n&cmdLenMask)
	if write {
		v |= cmdWrite
	}
	return h.wire(binary.LittleEndian.AppendUint32(nil, v))
}

// rawRead runs a read transaction and returns all the bytes clocked after
// the command word, as they came off the wire.
func (h *host) rawRead(fn int, addr uint32, n, extra int) []byte {
	h.t.Helper()
	rl := (n+3)/4*4 + extra
	if fn == funcBack {
		rl += f1Pad
	}
	if h.status {
		rl += 4
	}
	r := make([]byte, rl)
	if err := h.spi.TxPackets([]spi.Packet{{W: h.cmd(false, fn, addr, n), KeepCS: true}, {R: r}}); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// read reads n bytes at addr of function fn.
func (h *host) read(fn int, addr uint32, n int) []byte {
	h.t.Helper()
	r := h.rawRead(fn, addr, n, 0)
	if fn == funcBack {
		r = r[f1Pad:]
	}
	units := (n + 3) / 4 * 4
	data := append([]byte(nil), r[:units]...)
	permute(data, h.mode)
	if h.status {
		st := append([]byte(nil), r[units:units+4]...)
		permute(st, h.mode)
		h.last = binary.LittleEndian.Uint32(st)
	}
	return data[:n]
}

// write writes data at addr of function fn.
func (h *host) write(fn int, addr uint32, data []byte) {
	h.t.Helper()
	w := append(h.cmd(true, fn, addr, len(data)), h.wire(data)...)
	p := []spi.Packet{{W: w}}
	if h.status {
		st := make([]byte, 4)
		p = []spi.Packet{{W: w, KeepCS: true}, {R: st}}
		defer func() {
			permute(st, h.mode)
			h.last = binary.LittleEndian.Uint32(st)
		}()
	}
	if err := h.spi.TxPackets(p); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) read8(fn int, addr uint32) byte { return h.read(fn, addr, 1)[0] }
func (h *host) read16(fn int, addr uint32) uint16 {
	return binary.LittleEndian.Uint16(h.read(fn, addr, 2))
}
func (h *host) read32(fn int, addr uint32) uint32 {
	return binary.LittleEndian.Uint32(h.read(fn, addr, 4))
}
func (h *host) write8(fn int, addr uint32, v byte) { h.write(fn, addr, []byte{v}) }
func (h *host) write16(fn int, addr uint32, v uint16) {
	h.write(fn, addr, binary.LittleEndian.AppendUint16(nil, v))
}
func (h *host) write32(fn int, addr uint32, v uint32) {
	h.write(fn, addr, binary.LittleEndian.AppendUint32(nil, v))
}

// power drives WL_REG_ON.
func (h *host) power(on bool) {
	h.t.Helper()
	if err := h.c.ON().Out(gpio.Level(on)); err != nil {
		h.t.Fatal(err)
	}
	if !on {
		h.mode, h.status, h.winSet = mode16, false, false
		h.seq, h.credit, h.id = 0, initialCredit, 0
	}
}

// switchMode writes bus control in 16-bit mode and follows it.
func (h *host) switchMode(v uint32) {
	h.t.Helper()
	h.write32(funcBus, regBusCtrl, v)
	h.mode = mode32LE
	if v&busBigEndian != 0 {
		h.mode = mode32BE
	}
	h.status = v>>16&statusEnable != 0
}

// Bus control values of the drivers (fact sheet 1.4; spec).
const (
	busNichost = 0x000304B3 // 32-bit big-endian, status enable
	busEmbassy = 0x000304B1 // 32-bit little-endian, status enable
	busC       = 0x000204B3 // 32-bit big-endian, no status
)

// busInit is fact sheet 1.5 for a chip just powered up.
func (h *host) busInit(busCtrl uint32) {
	h.t.Helper()
	h.power(true)
	if v := h.read32(funcBus, regTestRO); v != testPattern {
		h.t.Fatalf("16-bit F0 0x14 = 0x%08X, want 0xFEEDBEAD", v)
	}
	h.switchMode(busCtrl)
	if v := h.read32(funcBus, regTestRO); v != testPattern {
		h.t.Fatalf("%v F0 0x14 = 0x%08X, want 0xFEEDBEAD", h.mode, v)
	}
	h.write8(funcBus, regRespDelay0+1, 4)
	h.write8(funcBus, regIntStatus, 0x99)
	h.write16(funcBus, regIntEnable, 0x00BE)
}

// setWindow selects the backplane window for addr, writing the bytes that
// changed ([C]'s cache starts at 0, the power-on window).
func (h *host) setWindow(addr uint32) {
	base := addr &^ f1WindowMask
	cur := h.win
	if !h.winSet {
		cur = 0
	}
	for i, reg := range []uint32{f1WinLow, f1WinMid, f1WinHigh} {
		sh := 8 * (i + 1)
		if byte(base>>sh) != byte(cur>>sh) {
			h.write8(funcBack, reg, byte(base>>sh))
		}
	}
	h.win, h.winSet = base, true
}

// bpRead reads n <= 64 bytes of backplane memory at addr (one window).
func (h *host) bpRead(addr uint32, n int) []byte {
	h.setWindow(addr)
	a := addr & f1WindowMask
	if n == 4 {
		a |= f1AccessFlag
	}
	return h.read(funcBack, a, n)
}

// bpWrite writes backplane memory in 64-byte chunks inside windows.
func (h *host) bpWrite(addr uint32, data []byte) {
	for len(data) > 0 {
		n := min(len(data), 64, int(f1WindowSize-addr&f1WindowMask))
		h.setWindow(addr)
		a := addr & f1WindowMask
		if n == 4 {
			a |= f1AccessFlag
		}
		h.write(funcBack, a, data[:n])
		addr += uint32(n)
		data = data[n:]
	}
}

func (h *host) bpWrite8(addr uint32, v byte) { h.bpWrite(addr, []byte{v}) }
func (h *host) bpRead8(addr uint32) byte     { return h.bpRead(addr, 1)[0] }
func (h *host) bpWrite32(addr uint32, v uint32) {
	h.bpWrite(addr, binary.LittleEndian.AppendUint32(nil, v))
}
func (h *host) bpRead32(addr uint32) uint32 {
	return binary.LittleEndian.Uint32(h.bpRead(addr, 4))
}

// resetCore is fact sheet 2.4's disable + reset of a core wrapper.
func (h *host) resetCore(wrapper uint32) {
	h.bpRead8(wrapper + wrapResetCtrl)
	if h.bpRead8(wrapper+wrapResetCtrl)&resetInside == 0 {
		h.bpWrite8(wrapper+wrapIOCtrl, 0)
		h.bpRead8(wrapper + wrapIOCtrl)
		h.bpWrite8(wrapper+wrapResetCtrl, resetInside)
	}
	h.bpWrite8(wrapper+wrapIOCtrl, ioFGC|ioClockEn)
	h.bpRead8(wrapper + wrapIOCtrl)
	h.bpWrite8(wrapper+wrapResetCtrl, 0)
	h.bpWrite8(wrapper+wrapIOCtrl, ioClockEn)
	h.bpRead8(wrapper + wrapIOCtrl)
}

// testFirmware is a firmware image of n bytes (any bytes do).
func testFirmware(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var testNVRAM = []byte("NVRAMRev=$Rev$\x00manfid=0x2d0\x00prodid=0x0727\x00macaddr=00:A0:50:b5:59:5e\x00boardflags=0x00404001\x00\x00")

// download is fact sheet 2.5 steps 1-6: ALP, cores, remap, firmware,
// NVRAM and its token.
func (h *host) download(fw, nvram []byte, token bool) {
	h.t.Helper()
	h.write8(funcBack, f1ClockCSR, csrALPReq)
	if h.read8(funcBack, f1ClockCSR)&csrALPAvail == 0 {
		h.t.Fatal("ALP avail not set after the ALP request")
	}
	h.write8(funcBack, f1ClockCSR, 0)
	h.bpRead8(armWrapper + wrapResetCtrl)
	if h.bpRead8(armWrapper+wrapResetCtrl)&resetInside == 0 {
		h.t.Fatal("the ARM is not in reset at power-up")
	}
	h.resetCore(socsramWrap)
	h.bpWrite32(socsramBankIx, 3)
	h.bpWrite32(socsramPDA, 0)
	if fw != nil {
		h.bpWrite(0, fw)
	}
	if nvram != nil {
		n := (len(nvram) + 3) / 4 * 4
		padded := make([]byte, n)
		copy(padded, nvram)
		h.bpWrite(ramSize-4-uint32(n), padded)
		if token {
			w := uint32(n / 4)
			h.bpWrite32(nvramToken, ^w<<16|w)
		}
	}
}

// boot releases the ARM and waits (on the manual clock) for HT and F2
// ready, then does the post-boot setup of fact sheet 2.5 steps 9-11.
func (h *host) boot() {
	h.t.Helper()
	h.resetCore(armWrapper)
	if io := h.bpRead8(armWrapper + wrapIOCtrl); io&3 != ioClockEn || h.bpRead8(armWrapper+wrapResetCtrl)&resetInside != 0 {
		h.t.Fatalf("ARM up check failed: IOCTRL 0x%02X", io)
	}
	for i := 0; h.read8(funcBack, f1ClockCSR)&csrHTAvail == 0; i++ {
		if i == 100 {
			h.t.Fatal("HT avail never came")
		}
		h.clk.Advance(time.Millisecond)
	}
	h.bpWrite32(sdioHostMask, 0xF0)
	h.write8(funcBack, f1Watermark, 0x20)
	if h.read32(funcBus, regStatus)&stF2RxReady == 0 {
		h.t.Fatal("F2 not ready after HT")
	}
	h.write8(funcBack, f1PullUp, 0)
}

// bringUp powers a chip up to a running firmware with the CLM loaded.
func (h *host) bringUp(busCtrl uint32) {
	h.t.Helper()
	h.busInit(busCtrl)
	h.download(testFirmware(8192), testNVRAM, true)
	h.boot()
	h.loadCLM(testFirmware(2500)[100:1084], 1024)
}

// up brings the chip up and the firmware up (WLC_UP) as the drivers do.
func (h *host) up() {
	h.t.Helper()
	h.bringUp(busNichost)
	h.setVar("country", append(append([]byte("XX\x00\x00"), 0xFF, 0xFF, 0xFF, 0xFF), []byte("XX\x00\x00")...))
	mask := bytes.Repeat([]byte{0xFF}, 24)
	h.setVar("bsscfg:event_msgs", append(le32(0), mask...))
	h.mustIoctl(wlcUp, true, nil)
}

// loadCLM sends clm in chunks with the clmload iovar.
func (h *host) loadCLM(clm []byte, chunk int) {
	h.t.Helper()
	for off := 0; off < len(clm); off += chunk {
		n := min(chunk, len(clm)-off)
		flag := uint16(dlFlagHandV)
		if off == 0 {
			flag |= dlFlagBegin
		}
		if off+n == len(clm) {
			flag |= dlFlagEnd
		}
		h.setVar("clmload", clmChunk(flag, clm[off:off+n]))
	}
	if st := h.getVar("clmload_status", 4); binary.LittleEndian.Uint32(st) != 0 {
		h.t.Fatalf("clmload_status = % X, want 0", st)
	}
}

func clmChunk(flag uint16, data []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, flag)
	b = binary.LittleEndian.AppendUint16(b, dlTypeCLM)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, data...)
}

// sendFrame sends one SDPCM frame on channel ch with header length hl.
// It first reads frames until it has credit.
func (h *host) sendFrame(ch byte, hl int, payload []byte) {
	h.t.Helper()
	for i := 0; h.seq == h.credit; i++ {
		if i == 100 || !h.poll() {
			h.t.Fatalf("no credit: sequence %d, credit %d", h.seq, h.credit)
		}
	}
	h.sendRaw(h.sdpcm(ch, hl, payload))
}

// sdpcm builds a host frame and takes a sequence number.
func (h *host) sdpcm(ch byte, hl int, payload []byte) []byte {
	n := hl + len(payload)
	b := make([]byte, n)
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], ^uint16(n))
	b[4] = h.seq
	h.seq++
	b[5] = ch
	b[7] = byte(hl)
	copy(b[hl:], payload)
	return b
}

// sendRaw writes a frame to F2, the byte count rounded up to 4.
func (h *host) sendRaw(b []byte) {
	h.t.Helper()
	padded := make([]byte, (len(b)+3)/4*4)
	copy(padded, b)
	h.write(funcWLAN, 0, padded)
}

// statusNow is the status word: the trailing one of the last transaction
// when enabled (as [EMB] caches it), else a read of F0 0x08.
func (h *host) statusNow() uint32 {
	if h.status {
		return h.last
	}
	return h.read32(funcBus, regStatus)
}

// poll reads one F2 frame if one is waiting; false if none.
func (h *host) poll() bool {
	h.t.Helper()
	st := h.read32(funcBus, regStatus)
	if st&stF2PktAvail == 0 {
		return false
	}
	n := int(st >> stF2LenShift & stF2LenMax)
	b := h.read(funcWLAN, 0, n)
	h.take(b)
	return true
}

// take decodes a frame from the chip.
func (h *host) take(b []byte) (ch byte, cdc []byte) {
	h.t.Helper()
	n := int(binary.LittleEndian.Uint16(b))
	if n != len(b) || binary.LittleEndian.Uint16(b[2:])^uint16(n) != 0xFFFF {
		h.t.Fatalf("bad SDPCM header % X (read %d bytes)", b[:4], len(b))
	}
	h.credit = b[9]
	if b[8] != 0 {
		h.t.Fatalf("flow control %d, want 0", b[8])
	}
	ch = b[5] & 0x0F
	hl := int(b[7])
	p := b[hl:]
	switch ch {
	case chanControl:
		return ch, p
	case chanEvent:
		if p[0] != bdcVersion2 {
			h.t.Fatalf("event BDC flags 0x%02X", p[0])
		}
		h.events = append(h.events, decodeEvent(h.t, p[bdcHeaderLen+4*int(p[3]):]))
	case chanData:
		h.data = append(h.data, append([]byte(nil), p[bdcHeaderLen+4*int(p[3]):]...))
		h.dataIf = append(h.dataIf, p[2])
	default:
		h.t.Fatalf("frame on channel %d", ch)
	}
	return ch, nil
}

// decodeEvent checks and decodes an event frame (fact sheet 6.1).
func decodeEvent(t *testing.T, m []byte) rxEvent {
	t.Helper()
	be := binary.BigEndian
	if len(m) < evHeaderLen || be.Uint16(m[12:]) != etherTypeBRCM || be.Uint16(m[14:]) != brcmSubtype ||
		!bytes.Equal(m[19:22], []byte{0x00, 0x10, 0x18}) || be.Uint16(m[22:]) != brcmUsrSub {
		t.Fatalf("bad event header % X", m[:min(len(m), evHeaderLen)])
	}
	dl := be.Uint32(m[44:])
	if int(dl) != len(m)-evHeaderLen {
		t.Fatalf("event datalen %d, %d bytes present", dl, len(m)-evHeaderLen)
	}
	return rxEvent{
		typ: be.Uint32(m[28:]), status: be.Uint32(m[32:]), reason: be.Uint32(m[36:]), auth: be.Uint32(m[40:]),
		flags: be.Uint16(m[26:]), addr: append(net.HardwareAddr(nil), m[48:54]...), ifidx: m[70], bsscfg: m[71],
		data: append([]byte(nil), m[evHeaderLen:]...),
	}
}

// drain reads every waiting frame.
func (h *host) drain() {
	for h.poll() {
	}
}

// ioctl runs one CDC request and returns the status and the response
// payload.
func (h *host) ioctl(cmd uint32, set bool, payload []byte) (int32, []byte) {
	h.t.Helper()
	return h.ioctlOn(0, cmd, set, payload)
}

// ioctlOn is ioctl on interface iface (CDC flags bits 15:12).
func (h *host) ioctlOn(iface int, cmd uint32, set bool, payload []byte) (int32, []byte) {
	h.t.Helper()
	h.id++
	flags := uint32(h.id)<<16 | uint32(iface)<<cdcIfShift
	if set {
		flags |= cdcFlagSet
	}
	p := make([]byte, cdcHeaderLen+len(payload))
	binary.LittleEndian.PutUint32(p[0:], cmd)
	binary.LittleEndian.PutUint32(p[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(p[8:], flags)
	copy(p[cdcHeaderLen:], payload)
	h.sendFrame(chanControl, sdpcmHeaderLen, p)
	for i := 0; i < 1000; i++ {
		st := h.read32(funcBus, regStatus)
		if st&stF2PktAvail == 0 {
			h.t.Fatalf("no response to %s", cmdName(cmd))
		}
		b := h.read(funcWLAN, 0, int(st>>stF2LenShift&stF2LenMax))
		ch, cdc := h.take(b)
		if ch != chanControl {
			continue
		}
		if id := uint16(binary.LittleEndian.Uint32(cdc[8:]) >> 16); id != h.id {
			h.t.Fatalf("response id %d, want %d", id, h.id)
		}
		if got := binary.LittleEndian.Uint32(cdc[0:]); got != cmd {
			h.t.Fatalf("response cmd %d, want %d", got, cmd)
		}
		ln := int(binary.LittleEndian.Uint32(cdc[4:]))
		if ln != len(payload) || len(cdc) != cdcHeaderLen+ln {
			h.t.Fatalf("%s response: CDC length %d with %d bytes, want %d", cmdName(cmd), ln, len(cdc)-cdcHeaderLen, len(payload))
		}
		return int32(binary.LittleEndian.Uint32(cdc[12:])), cdc[cdcHeaderLen:]
	}
	h.t.Fatal("no response")
	return 0, nil
}

func (h *host) mustIoctl(cmd uint32, set bool, payload []byte) []byte {
	h.t.Helper()
	st, resp := h.ioctl(cmd, set, payload)
	if st != 0 {
		h.t.Fatalf("%s: status %d", cmdName(cmd), st)
	}
	return resp
}

func (h *host) setVar(name string, v []byte) {
	h.t.Helper()
	if st, _ := h.ioctl(wlcSetVar, true, append([]byte(name+"\x00"), v...)); st != 0 {
		h.t.Fatalf("SET %s: status %d", name, st)
	}
}

func (h *host) getVar(name string, n int) []byte {
	h.t.Helper()
	st, resp := h.ioctl(wlcGetVar, false, append([]byte(name+"\x00"), make([]byte, n)...))
	if st != 0 {
		h.t.Fatalf("GET %s: status %d", name, st)
	}
	return resp[:n]
}

func (h *host) set32(cmd uint32, v uint32) { h.mustIoctl(cmd, true, le32(v)) }

// advance moves the clock on and reads what the chip queued meanwhile.
func (h *host) advance(d time.Duration) {
	h.clk.Advance(d)
	h.drain()
}

// takeEvents returns the events read so far and forgets them.
func (h *host) takeEvents() []rxEvent {
	e := h.events
	h.events = nil
	return e
}

// eventList renders events for comparison.
func eventList(evs []rxEvent) string {
	var s []string
	for _, e := range evs {
		if e.typ == evEscanResult {
			continue
		}
		s = append(s, fmt.Sprintf("%s %d/%d/%d", evName(e.typ), e.status, e.reason, e.flags))
	}
	return strings.Join(s, ", ")
}
