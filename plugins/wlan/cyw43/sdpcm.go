package cyw43

import (
	"encoding/binary"
	"fmt"
)

// rxFrame is an SDPCM frame waiting for the host; its sequence and credit
// bytes are filled in when the host reads it.
type rxFrame struct {
	b    []byte
	data bool // channel 2 (counts against the data queue bound)
}

// sdpcm is the F2 framing state.
type sdpcm struct {
	rxq        []rxFrame
	rxData     int  // data frames in rxq
	txSeq      byte // next sequence number of a chip-to-host frame
	hostSeq    byte // last host sequence number taken
	hostAny    bool // a host frame was taken since power-up
	advertised byte // credit in the last frame the host read
}

func (s *sdpcm) reset() {
	*s = sdpcm{hostSeq: 0xFF, advertised: initialCredit}
}

// credit is what the next chip-to-host frame advertises: the last host
// sequence + 1 + creditAhead (fact sheet 4.2).
func (s *sdpcm) credit() byte { return s.hostSeq + 1 + creditAhead }

// headLen is the SDPCM length of the head frame (0: none).
func (s *sdpcm) headLen() int {
	if len(s.rxq) == 0 {
		return 0
	}
	return len(s.rxq[0].b)
}

// pop removes the head frame, filling in its sequence and credit.
func (s *sdpcm) pop() []byte {
	f := s.rxq[0]
	s.rxq[0] = rxFrame{}
	s.rxq = s.rxq[1:]
	if f.data {
		s.rxData--
	}
	f.b[4] = s.txSeq
	s.txSeq++
	f.b[9] = s.credit()
	s.advertised = f.b[9]
	return f.b
}

// discardHead is the host's frame-control discard (F1 0x1000D bit0).
func (s *sdpcm) discardHead(c *Chip) {
	if len(s.rxq) == 0 {
		c.log.Debug("frame control discard with no frame waiting")
		return
	}
	c.log.Info("host discarded the head F2 frame", "len", s.headLen())
	s.pop()
}

// queue appends an SDPCM frame for the host with payload after a header of
// hdrLen bytes on channel ch. Caller holds mu.
func (c *Chip) queue(ch byte, payload []byte) bool {
	s := &c.sd
	data := ch == chanData
	if len(s.rxq) >= rxQueueMax || (data && s.rxData >= rxDataQueueMax) {
		return false
	}
	n := sdpcmHeaderLen + len(payload)
	b := make([]byte, n)
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], ^uint16(n))
	b[5] = ch
	b[7] = sdpcmHeaderLen
	copy(b[sdpcmHeaderLen:], payload)
	s.rxq = append(s.rxq, rxFrame{b: b, data: data})
	if data {
		s.rxData++
	}
	c.updateIRQ()
	return true
}

// f2Read hands the head frame to an F2 read of len(out) bytes. Caller
// holds mu.
func (c *Chip) f2Read(out []byte) {
	s := &c.sd
	if !c.bp.f2Ready {
		c.misuse(ruleF2Ready, "F2 read of %d bytes while F2 is not ready (the firmware is not running): data reads 0", len(out))
		c.tx.stBits |= stDataUnavail
		c.raise(intDataUnavail)
		return
	}
	if len(s.rxq) == 0 {
		c.misuse(ruleF2Read, "F2 read of %d bytes with no frame waiting (status 0x100 clear): data reads 0", len(out))
		c.tx.stBits |= stDataUnavail
		c.raise(intDataUnavail)
		return
	}
	n := s.headLen()
	f := s.pop()
	copy(out, f)
	switch {
	case len(out) > n:
		c.misuse(ruleF2Read, "F2 read of %d bytes, longer than the %d-byte head frame (F2 FIFO underflow; the bytes after the frame read 0)", len(out), n)
		c.tx.stBits |= stUnderflow
		c.raise(intRdUnderflow)
	case len(out) < n:
		c.misuse(ruleF2Read, "F2 read of %d bytes, shorter than the %d-byte head frame (the rest of the frame is lost)", len(out), n)
	}
	c.log.Debug("F2 frame to host", "len", n, "chan", f[5]&0x0F, "credit", f[9])
	c.updateIRQ()
}

// f2Write takes an SDPCM frame from the host. Caller holds mu.
func (c *Chip) f2Write(b []byte) {
	s := &c.sd
	if !c.bp.f2Ready {
		what := "frame"
		if len(b) >= sdpcmHeaderLen && b[5]&0x0F == chanControl {
			what = "control frame (an ioctl before the firmware runs)"
		}
		c.misuse(ruleF2Ready, "F2 write of a %d-byte %s while F2 is not ready (F0 status 0x20 clear): dropped", len(b), what)
		c.tx.stBits |= stOverflow
		c.raise(intWrOverflow)
		return
	}
	if len(b) < sdpcmHeaderLen {
		c.misuse(ruleSDPCM, "F2 write of %d bytes: shorter than the 12-byte SDPCM header (dropped)", len(b))
		return
	}
	n := int(binary.LittleEndian.Uint16(b[0:]))
	inv := binary.LittleEndian.Uint16(b[2:])
	switch {
	case uint16(n)^inv != 0xFFFF:
		c.misuse(ruleSDPCM, "SDPCM frame with length 0x%04X and check 0x%04X (not ~length): dropped", n, inv)
		return
	case n < sdpcmHeaderLen:
		c.misuse(ruleSDPCM, "SDPCM frame length %d is shorter than its 12-byte header: dropped", n)
		return
	case n > len(b):
		c.misuse(ruleSDPCM, "SDPCM frame length %d is longer than the %d-byte F2 write: dropped", n, len(b))
		return
	}
	b = b[:n]
	seq := b[4]
	if d := s.advertised - seq; d == 0 || d&0x80 != 0 {
		c.misuse(ruleCredit, "SDPCM frame with sequence %d sent without credit (the last credit the host read is %d): dropped", seq, s.advertised)
		c.tx.stBits |= stOverflow
		c.raise(intWrOverflow)
		return
	}
	if s.hostAny && seq != s.hostSeq+1 {
		c.log.Info("SDPCM sequence gap", "got", seq, "want", s.hostSeq+1)
	}
	s.hostSeq, s.hostAny = seq, true
	ch := b[5] & 0x0F
	hl := int(b[7])
	if hl < sdpcmHeaderLen || hl > n {
		c.misuse(ruleSDPCM, "SDPCM header length %d outside 12..%d (frame of %d bytes): dropped", hl, n, n)
		return
	}
	switch ch {
	case chanControl:
		c.control(b[hl:])
	case chanData:
		c.dataFromHost(b, hl)
	default:
		c.misuse(ruleChannel, "SDPCM frame from the host on channel %d (only 0 control and 2 data carry host frames): dropped", ch)
	}
}

// dataFromHost takes a channel-2 frame: SDPCM (header length 14 with its 2
// pad bytes), BDC, Ethernet. Caller holds mu.
func (c *Chip) dataFromHost(b []byte, hl int) {
	if hl != sdpcmDataHdr {
		c.misuse(ruleBDC, "data frame with SDPCM header length %d (want 14: 12 and 2 pad bytes)", hl)
	}
	rest := b[hl:]
	if len(rest) < bdcHeaderLen {
		c.misuse(ruleBDC, "data frame of %d bytes has no room for the 4-byte BDC header: dropped", len(b))
		c.stats.TxDropped++
		return
	}
	if rest[0]&0xF0 != bdcVersion2 {
		c.misuse(ruleBDC, "data frame with BDC flags 0x%02X (want version 2: 0x20)", rest[0])
	}
	off := bdcHeaderLen + 4*int(rest[3])
	if off > len(rest) {
		c.misuse(ruleBDC, "data frame's BDC data offset %d words runs past the frame: dropped", rest[3])
		c.stats.TxDropped++
		return
	}
	eth := rest[off:]
	if len(eth) < 14 || len(eth) > 1514 {
		c.misuse(ruleBDC, "data frame carries %d bytes of Ethernet (want 14..1514): dropped", len(eth))
		c.stats.TxDropped++
		return
	}
	switch rest[2] {
	case ifSTA:
		c.sendToRadio(append([]byte(nil), eth...))
	case ifAP:
		c.apTransmit(append([]byte(nil), eth...))
	default:
		c.log.Info("data frame for interface", "ifidx", rest[2], "note", "only the station (0) and the AP (1) exist; dropped")
		c.stats.TxDropped++
	}
}

// dataToHost wraps an Ethernet frame from the radio as SDPCM channel 2 +
// BDC (offset 0, flags2 = the interface: 0 station, 1 AP). Caller holds
// mu.
func (c *Chip) dataToHost(eth []byte, ifidx byte) {
	p := make([]byte, bdcHeaderLen+len(eth))
	p[0] = bdcVersion2
	p[2] = ifidx
	copy(p[bdcHeaderLen:], eth)
	if !c.queue(chanData, p) {
		c.stats.RxDropped++
		c.log.Debug("RX queue full: frame from the radio dropped", "len", len(eth))
		return
	}
	c.stats.RxFrames++
}

// cdcResponse builds and queues the channel-0 response to a request.
func (c *Chip) cdcResponse(cmd, flags uint32, status int32, payload []byte) {
	p := make([]byte, cdcHeaderLen+len(payload))
	binary.LittleEndian.PutUint32(p[0:], cmd)
	binary.LittleEndian.PutUint32(p[4:], uint32(len(payload)))
	if status != 0 {
		flags |= cdcFlagError
	}
	binary.LittleEndian.PutUint32(p[8:], flags)
	binary.LittleEndian.PutUint32(p[12:], uint32(status))
	copy(p[cdcHeaderLen:], payload)
	if !c.queue(chanControl, p) {
		c.log.Warn("RX queue full: ioctl response dropped", "cmd", cmd)
	}
}

// control takes a CDC request (channel 0). Caller holds mu.
func (c *Chip) control(b []byte) {
	if len(b) < cdcHeaderLen {
		c.misuse(ruleCDC, "control frame with %d bytes after SDPCM: shorter than the 16-byte CDC header (dropped)", len(b))
		return
	}
	cmd := binary.LittleEndian.Uint32(b[0:])
	ln := int(binary.LittleEndian.Uint32(b[4:]) & 0xFFFF)
	flags := binary.LittleEndian.Uint32(b[8:])
	payload := b[cdcHeaderLen:]
	if len(payload) < ln {
		c.misuse(ruleCDC, "ioctl %s: CDC length %d but only %d payload bytes follow (the rest reads 0)", cmdName(cmd), ln, len(payload))
		payload = append(append([]byte(nil), payload...), make([]byte, ln-len(payload))...)
	}
	req := append([]byte(nil), payload[:ln]...)
	resp := append([]byte(nil), req...)
	set := flags&cdcFlagSet != 0
	iface := int(flags>>cdcIfShift) & 0xF
	c.stats.Ioctls++
	status := c.ioctl(cmd, set, iface, req, resp)
	c.log.Debug("ioctl", "cmd", cmdName(cmd), "set", set, "if", iface, "len", ln, "status", status)
	c.cdcResponse(cmd, flags&^cdcFlagError, status, resp)
	post := c.post
	c.post = nil
	for _, f := range post {
		f()
	}
}

func cmdName(cmd uint32) string {
	if s, ok := wlcNames[cmd]; ok {
		return s
	}
	return fmt.Sprintf("WLC_%d", cmd)
}

var wlcNames = map[uint32]string{
	wlcUp: "WLC_UP", wlcDown: "WLC_DOWN", wlcSetInfra: "WLC_SET_INFRA", wlcSetAuth: "WLC_SET_AUTH",
	wlcGetBSSID: "WLC_GET_BSSID", wlcGetSSID: "WLC_GET_SSID", wlcSetSSID: "WLC_SET_SSID",
	wlcGetChannel: "WLC_GET_CHANNEL", wlcSetChannel: "WLC_SET_CHANNEL", wlcDisassoc: "WLC_DISASSOC",
	wlcGetAntdiv: "WLC_GET_ANTDIV", wlcSetAntdiv: "WLC_SET_ANTDIV", wlcSetDTIMPrd: "WLC_SET_DTIMPRD", wlcSetKey: "WLC_SET_KEY",
	wlcSetCountry: "WLC_SET_COUNTRY", wlcGetPM: "WLC_GET_PM", wlcSetPM: "WLC_SET_PM",
	wlcSetGMode: "WLC_SET_GMODE", wlcSetAP: "WLC_SET_AP", wlcGetRSSI: "WLC_GET_RSSI",
	wlcSetWsec: "WLC_SET_WSEC", wlcSetBand: "WLC_SET_BAND", wlcGetAssocList: "WLC_GET_ASSOCLIST",
	wlcSetWPAAuth: "WLC_SET_WPA_AUTH", wlcGetVar: "WLC_GET_VAR", wlcSetVar: "WLC_SET_VAR",
	wlcSetWsecPMK: "WLC_SET_WSEC_PMK",
}
