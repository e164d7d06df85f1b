package w5500

// socket is one of the eight sockets. Plain registers live in regs, indexed
// by offset; the buffer pointers, which the chip computes or moves, live in
// their own fields.
type socket struct {
	regs     [socketRegSize]byte
	txRD     uint16 // Sn_TX_RD: start of the data not yet sent
	txWR     uint16 // Sn_TX_WR as the host wrote it
	rxRDHost uint16 // Sn_RX_RD as the host wrote it
	rxRD     uint16 // RX_RD as committed by the last RECV
	rxWR     uint16 // Sn_RX_WR: end of the received data
	txStuck  bool   // a SEND issued with the link down never completes
	// sendUnseen: a SEND completed but the host has not looked since
	// (Sn_IR with SEND_OK, Sn_TX_RD or Sn_TX_FSR). The model completes a
	// SEND at once; a real chip is still sending, so the next SEND must
	// wait for that look.
	sendUnseen bool
}

// reset puts the socket in its reset state (closed).
func (s *socket) reset() {
	*s = socket{}
	s.regs[snDHAR], s.regs[snDHAR+1], s.regs[snDHAR+2] = 0xFF, 0xFF, 0xFF
	s.regs[snDHAR+3], s.regs[snDHAR+4], s.regs[snDHAR+5] = 0xFF, 0xFF, 0xFF
	s.regs[snTTL] = 0x80
	s.regs[snRXBUFSIZE] = 2
	s.regs[snTXBUFSIZE] = 2
	s.regs[snIMR] = 0xFF
	s.regs[snFRAG] = 0x40
}

// rsr is Sn_RX_RSR: received bytes not yet committed by RECV.
func (s *socket) rsr() uint16 { return s.rxWR - s.rxRD }

// sawSend notes a read of Sn_TX_RD or Sn_TX_FSR: it shows a completed
// SEND as completed (TX_RD = TX_WR), but not one that hangs.
func (s *socket) sawSend() {
	if !s.txStuck {
		s.sendUnseen = false
	}
}

// bufKiB is the socket's buffer size in KiB as the chip uses it: an invalid
// setting counts as no buffer.
func bufKiB(v byte) int {
	if !validBufKiB(v) {
		return 0
	}
	return int(v)
}

// layout returns where socket n's TX (tx) or RX buffer lies in the 16 KiB
// memory: the sockets' buffers are allocated in socket order. A buffer that
// would end past 16 KiB gets no memory (guess: the datasheet only says the
// total must not exceed 16 KiB).
func (c *Chip) layout(n int, tx bool) (base, size int) {
	off := snRXBUFSIZE
	if tx {
		off = snTXBUFSIZE
	}
	kib := 0
	for i := range n {
		kib += bufKiB(c.sockets[i].regs[off])
	}
	own := bufKiB(c.sockets[n].regs[off])
	if kib+own > memKiB {
		return 0, 0
	}
	return kib * 1024, own * 1024
}

// txFree is Sn_TX_FSR: the buffer size less what lies between TX_RD and
// the host's TX_WR (guess: the real chip may only count data once SEND is
// issued; the two agree whenever SEND completes at once).
func (c *Chip) txFree(n int) uint16 {
	_, size := c.layout(n, true)
	used := int(c.sockets[n].txWR - c.sockets[n].txRD)
	if used >= size {
		return 0
	}
	return uint16(size - used)
}

// readSocket returns the byte at off in socket n's register block.
func (c *Chip) readSocket(n int, off uint16) byte {
	s := &c.sockets[n]
	switch off {
	case snCR:
		return 0 // every command is accepted at once
	case snIR:
		if s.regs[snIR]&sirSendOK != 0 {
			s.sendUnseen = false
		}
		return s.regs[snIR]
	case snTXFSR:
		s.sawSend()
		return byte(c.txFree(n) >> 8)
	case snTXFSR + 1:
		s.sawSend()
		return byte(c.txFree(n))
	case snTXRD:
		s.sawSend()
		return byte(s.txRD >> 8)
	case snTXRD + 1:
		s.sawSend()
		return byte(s.txRD)
	case snTXWR:
		return byte(s.txWR >> 8)
	case snTXWR + 1:
		return byte(s.txWR)
	case snRXRSR:
		v := byte(s.rsr() >> 8)
		if n == 0 {
			c.tear()
		}
		return v
	case snRXRSR + 1:
		return byte(s.rsr())
	case snRXRD:
		return byte(s.rxRDHost >> 8)
	case snRXRD + 1:
		return byte(s.rxRDHost)
	case snRXWR:
		return byte(s.rxWR >> 8)
	case snRXWR + 1:
		return byte(s.rxWR)
	}
	if reservedSocket(off) {
		return 0
	}
	return s.regs[off]
}

// writeSocket writes v at off in socket n's register block.
func (c *Chip) writeSocket(n int, off uint16, v byte) {
	s := &c.sockets[n]
	switch off {
	case snCR:
		c.command(n, v)
	case snIR:
		if v&s.regs[snIR] != 0 {
			s.regs[snIR] &^= v
			c.updateINT(true)
		}
	case snSR, snTXFSR, snTXFSR + 1, snTXRD, snTXRD + 1, snRXRSR, snRXRSR + 1, snRXWR, snRXWR + 1:
		c.misuseOnce(socketReg(n, off), ruleReadOnly, "write of 0x%02X to read-only %s ignored", v, socketName(n, off))
	case snTXWR:
		s.txWR = s.txWR&0x00FF | uint16(v)<<8
	case snTXWR + 1:
		s.txWR = s.txWR&0xFF00 | uint16(v)
	case snRXRD:
		s.rxRDHost = s.rxRDHost&0x00FF | uint16(v)<<8
	case snRXRD + 1:
		s.rxRDHost = s.rxRDHost&0xFF00 | uint16(v)
	case snRXBUFSIZE, snTXBUFSIZE:
		c.writeBufSize(n, off, v)
	default:
		if reservedSocket(off) {
			c.logReserved(socketReg(n, off), socketName(n, off), v)
			return
		}
		s.regs[off] = v
	}
}

// writeBufSize sets Sn_RXBUF_SIZE or Sn_TXBUF_SIZE. Only 0, 1, 2, 4, 8 and
// 16 are valid; the 16 KiB total is checked at OPEN, because drivers (Linux)
// set socket 0 to 16 KiB before they set the others to 0.
func (c *Chip) writeBufSize(n int, off uint16, v byte) {
	s := &c.sockets[n]
	if !validBufKiB(v) {
		c.misuse(ruleBufSize, "%s: invalid buffer size 0x%02X (allowed: 0, 1, 2, 4, 8, 16 KiB); the socket gets no buffer", socketName(n, off), v)
	}
	if v != s.regs[off] {
		for i := n; i < numSockets; i++ {
			if c.sockets[i].regs[snSR] != srClosed {
				c.misuse(ruleBufMove, "%s: changing the size from %d to %d KiB moves the buffer of open socket %d", socketName(n, off), s.regs[off], v, i)
				break
			}
		}
	}
	s.regs[off] = v
}

// raise sets Sn_IR bits the socket's Sn_IMR enables.
func (c *Chip) raise(n int, bits byte) {
	s := &c.sockets[n]
	if v := bits & s.regs[snIMR]; v != 0 {
		s.regs[snIR] |= v
		c.updateINT(false)
	}
}

// command runs a Sn_CR command; the register reads 0 again at once.
func (c *Chip) command(n int, cmd byte) {
	s := &c.sockets[n]
	name := func() string { return socketName(n, snCR) } // only for messages: formatting costs
	switch cmd {
	case 0:
	case cmdOPEN:
		c.open(n)
	case cmdCLOSE:
		s.regs[snSR] = srClosed
		s.txStuck, s.sendUnseen = false, false
	case cmdSEND:
		c.send(n)
	case cmdRECV:
		c.recv(n)
	case cmdLISTEN, cmdCONNECT, cmdDISCON, cmdSENDMAC, cmdSENDKEEP:
		if s.regs[snSR] == srMACRAW {
			c.misuse(ruleCommand, "%s: command 0x%02X is not valid in MACRAW mode", name(), cmd)
		} else {
			c.misuse(ruleNotSim, "%s: command 0x%02X on a socket in status 0x%02X", name(), cmd, s.regs[snSR])
		}
	default:
		c.misuse(ruleCommand, "%s: unknown command 0x%02X", name(), cmd)
	}
}

// open runs OPEN. Only MACRAW on socket 0 is simulated.
func (c *Chip) open(n int) {
	s := &c.sockets[n]
	name := func() string { return socketName(n, snCR) } // only for messages: formatting costs
	switch p := s.regs[snMR] & mrProto; p {
	case protoMACRAW:
		if n != 0 {
			c.misuse(ruleMACRAW, "%s: OPEN with Sn_MR=0x%02X: MACRAW is available on socket 0 only; status stays CLOSED", name(), s.regs[snMR])
			s.regs[snSR] = srClosed
			return
		}
	case protoTCP, protoUDP:
		c.misuse(ruleNotSim, "%s: OPEN with Sn_MR=0x%02X (TCP/UDP); status stays CLOSED", name(), s.regs[snMR])
		s.regs[snSR] = srClosed
		return
	case protoClosed:
		c.misuse(ruleCommand, "%s: OPEN with Sn_MR=0x%02X: no protocol set; status stays CLOSED", name(), s.regs[snMR])
		return
	default:
		c.misuse(ruleCommand, "%s: OPEN with Sn_MR=0x%02X: protocol 0x%X does not exist on the W5500; status stays CLOSED", name(), s.regs[snMR], p)
		return
	}
	c.checkTotals(name)
	if _, size := c.layout(0, false); size == 0 {
		c.misuse(ruleNoBuf, "%s: OPEN: socket 0 has no RX buffer (S0_RXBUF_SIZE=%d)", name(), s.regs[snRXBUFSIZE])
	}
	if _, size := c.layout(0, true); size == 0 {
		c.misuse(ruleNoBuf, "%s: OPEN: socket 0 has no TX buffer (S0_TXBUF_SIZE=%d)", name(), s.regs[snTXBUFSIZE])
	}
	s.regs[snSR] = srMACRAW
	s.txRD, s.txWR, s.rxRDHost, s.rxRD, s.rxWR = 0, 0, 0, 0, 0
	s.txStuck, s.sendUnseen = false, false
	c.log.Info("socket 0 open in MACRAW", "mr", s.regs[snMR])
}

// checkTotals reports a TX or RX buffer total over 16 KiB.
func (c *Chip) checkTotals(name func() string) {
	for _, off := range []uint16{snRXBUFSIZE, snTXBUFSIZE} {
		total := 0
		var sizes [numSockets]byte
		for i := range c.sockets {
			sizes[i] = c.sockets[i].regs[off]
			total += bufKiB(sizes[i])
		}
		if total > memKiB {
			c.misuse(ruleBufSize, "%s: OPEN: Sn_%s total %d KiB exceeds %d KiB (sockets 0-7: %v); sockets past 16 KiB get no buffer",
				name(), socketNames[off], total, memKiB, sizes)
		}
	}
}

// send runs SEND in MACRAW: [TX_RD, TX_WR) goes out as one frame.
func (c *Chip) send(n int) {
	s := &c.sockets[n]
	name := func() string { return socketName(n, snCR) } // only for messages: formatting costs
	if s.regs[snSR] != srMACRAW {
		c.misuse(ruleOpen, "%s: SEND on a socket in status 0x%02X (not open)", name(), s.regs[snSR])
		return
	}
	if s.txStuck {
		c.misuse(ruleSendDone, "%s: SEND while the previous SEND (issued with the link down) has not completed; ignored", name())
		return
	}
	if s.sendUnseen {
		c.misuse(ruleSendDone, "%s: SEND while the previous SEND has not been seen to complete (no read of Sn_IR with SEND_OK, Sn_TX_RD or Sn_TX_FSR since it; a real chip may still be sending it)", name())
	}
	base, size := c.layout(n, true)
	ln := int(s.txWR - s.txRD)
	if ln > size {
		c.misuse(ruleTxFree, "%s: SEND: Sn_TX_WR 0x%04X - Sn_TX_RD 0x%04X = %d bytes exceeds the %d-byte TX buffer; ignored", name(), s.txWR, s.txRD, ln, size)
		return
	}
	if ln < minFrame || ln > maxFrame {
		c.misuse(ruleFrameLen, "%s: SEND: a %d-byte frame (Sn_TX_RD 0x%04X, Sn_TX_WR 0x%04X) is outside %d..%d; not transmitted", name(), ln, s.txRD, s.txWR, minFrame, maxFrame)
		s.txRD = s.txWR
		s.sendUnseen = true
		c.raise(n, sirSendOK)
		return
	}
	if !c.linkUp(c.now()) {
		c.log.Info("SEND with the link down: the frame stays in the buffer and SEND_OK never comes", "len", ln)
		s.txStuck = true
		return
	}
	frame := make([]byte, max(ln, minOnWire)) // the MAC pads short frames
	copyOut(frame[:ln], c.txMem[base:base+size], int(s.txRD))
	c.out = append(c.out, frame)
	c.stats.FramesOut++
	c.log.Debug("frame out", "len", ln)
	s.txRD = s.txWR
	s.sendUnseen = true
	c.raise(n, sirSendOK)
}

// recv runs RECV: the host's Sn_RX_RD is committed and its space freed.
func (c *Chip) recv(n int) {
	s := &c.sockets[n]
	name := func() string { return socketName(n, snCR) } // only for messages: formatting costs
	if s.regs[snSR] != srMACRAW {
		c.misuse(ruleOpen, "%s: RECV on a socket in status 0x%02X (not open)", name(), s.regs[snSR])
		return
	}
	if adv := s.rxRDHost - s.rxRD; adv > s.rsr() {
		c.misuse(ruleRecv, "%s: RECV: Sn_RX_RD 0x%04X is beyond Sn_RX_WR 0x%04X (last committed 0x%04X); ignored", name(), s.rxRDHost, s.rxWR, s.rxRD)
		return
	}
	s.rxRD = s.rxRDHost
	if s.rsr() != 0 {
		c.raise(n, sirRecv) // data remains: keep level and edge drivers going
	}
}

// copyOut copies len(dst) bytes from the ring buf starting at offset off
// (taken mod len(buf)).
func copyOut(dst, buf []byte, off int) {
	off &= len(buf) - 1
	for len(dst) > 0 {
		k := copy(dst, buf[off:])
		dst = dst[k:]
		off = 0
	}
}

// copyIn copies src into the ring buf starting at offset off (mod len(buf)).
func copyIn(buf, src []byte, off int) {
	off &= len(buf) - 1
	for len(src) > 0 {
		k := copy(buf[off:], src)
		src = src[k:]
		off = 0
	}
}
