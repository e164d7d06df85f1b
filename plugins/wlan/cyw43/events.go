package cyw43

import (
	"encoding/binary"
	"net"
)

// event is one async event (fact sheet 6.1).
type event struct {
	typ, status, reason, auth uint32
	flags                     uint16
	addr                      net.HardwareAddr
	ifidx                     byte // ifSTA or ifAP; the bsscfg index is the same
	data                      []byte
}

// emit queues an event on SDPCM channel 1 behind a BDC header, if the
// event mask passes it. Caller holds mu.
func (c *Chip) emit(e event) {
	if !c.fw.eventEnabled(e.typ) {
		c.stats.EventsMasked++
		c.log.Debug("event masked", "type", e.typ, "status", e.status)
		return
	}
	p := make([]byte, bdcHeaderLen+evHeaderLen+len(e.data))
	p[0] = bdcVersion2
	m := p[bdcHeaderLen:]
	be := binary.BigEndian
	copy(m[0:6], c.fw.mac)  // destination: the host's MAC
	copy(m[6:12], c.fw.mac) // source
	be.PutUint16(m[12:], etherTypeBRCM)
	be.PutUint16(m[14:], brcmSubtype)
	// Length of what follows the length field: the rest of the BCM header
	// (8 bytes), the 48-byte event message and the data (inferred from
	// Broadcom's bcmevent.h layout; no driver checks it).
	be.PutUint16(m[16:], uint16(8+48+len(e.data)))
	m[18] = 0 // version
	m[19], m[20], m[21] = 0x00, 0x10, 0x18
	be.PutUint16(m[22:], brcmUsrSub)
	be.PutUint16(m[24:], evMsgVersion)
	be.PutUint16(m[26:], e.flags)
	be.PutUint32(m[28:], e.typ)
	be.PutUint32(m[32:], e.status)
	be.PutUint32(m[36:], e.reason)
	be.PutUint32(m[40:], e.auth)
	be.PutUint32(m[44:], uint32(len(e.data)))
	copy(m[48:54], e.addr)
	// ifname: Broadcom's names for the primary and the secondary bsscfg
	// (inferred; no driver reads them).
	if e.ifidx == ifAP {
		copy(m[54:70], "wl0.1")
	} else {
		copy(m[54:70], "wlan0")
	}
	m[70] = e.ifidx // ifidx: 0 the station, 1 the AP
	m[71] = e.ifidx // bsscfg index
	copy(m[evHeaderLen:], e.data)
	if !c.queue(chanEvent, p) {
		c.log.Warn("RX queue full: event dropped", "type", e.typ)
		return
	}
	c.stats.Events++
	c.log.Debug("event", "type", e.typ, "status", e.status, "reason", e.reason, "flags", e.flags, "ifidx", e.ifidx)
}
