package w5500

// readCommon returns the byte at off in the common register block.
func (c *Chip) readCommon(off uint16) byte {
	switch {
	case off == regSIR:
		return c.sir()
	case off == regPHYCFGR:
		return c.common[regPHYCFGR]&phyStored | c.phyStatus(c.now())
	case off == regVERSIONR:
		return chipVersion
	case reservedCommon(off):
		return 0
	}
	return c.common[off]
}

// writeCommon writes v at off in the common register block.
func (c *Chip) writeCommon(off uint16, v byte) {
	switch {
	case off == regMR:
		c.writeMR(v)
	case off == regIR:
		if v&c.common[regIR] != 0 {
			c.common[regIR] &^= v
			c.updateINT(true)
		}
	case off == regIMR:
		c.common[regIMR] = v & irBits
		c.updateINT(false)
	case off == regSIMR:
		c.common[regSIMR] = v
		c.updateINT(false)
	case off == regPHYCFGR:
		c.writePHYCFGR(v)
	case off == regSIR, off == regVERSIONR, off >= regUIPR && off < regUPORTR+2:
		c.misuseOnce(commonReg(off), ruleReadOnly, "write of 0x%02X to read-only %s ignored", v, commonName(off))
	case reservedCommon(off):
		c.logReserved(commonReg(off), commonName(off), v)
	default:
		c.common[off] = v
	}
}

// writeMR handles MR: RST resets every register (and self-clears: MR reads
// 0 afterwards); the other bits are stored. WOL, PPPoE and FARP only matter
// to the TCP/IP core the simulator does not model.
func (c *Chip) writeMR(v byte) {
	if v&mrRST != 0 {
		c.log.Info("MR.RST: software reset")
		held := c.phyHeld
		c.resetRegisters()
		if held { // PHYCFGR.RST is back to 1: the PHY leaves its reset
			c.phyHeld = false
			c.linkAt = c.now().Add(c.opts.RelinkDelay)
		}
		return
	}
	if r := v &^ mrBits; r != 0 {
		c.log.Info("MR: reserved bits written, ignored", "bits", r)
	}
	if f := v & (mrWOL | mrPPPoE | mrFARP); f != 0 {
		c.log.Info("MR: feature not simulated (WOL, PPPoE or FARP)", "bits", f)
	}
	c.common[regMR] = v & mrBits
}

// writePHYCFGR handles PHYCFGR. RST=0 holds the PHY in reset (the link
// drops); RST=1 after that releases it and the PHY links RelinkDelay later
// in the mode OPMD/OPMDC give at that moment. The status bits are
// read-only; writes to them are ignored (drivers write back what they read).
func (c *Chip) writePHYCFGR(v byte) {
	if v&phyOPMD != 0 && (v&phyOPMDC)>>opmdcShift == opmdcUnused {
		c.misuse(rulePHYCFGR, "%s: OPMDC 101 is an unused mode (value 0x%02X)", commonName(regPHYCFGR), v)
	}
	c.common[regPHYCFGR] = v & phyStored
	switch {
	case v&phyRST == 0:
		if !c.phyHeld {
			c.log.Info("PHYCFGR.RST=0: PHY reset, link down")
		}
		c.phyHeld = true
	case c.phyHeld:
		c.phyHeld = false
		c.phyMode = v & (phyOPMD | phyOPMDC)
		c.linkAt = c.now().Add(c.opts.RelinkDelay)
		c.log.Info("PHYCFGR.RST=1: PHY relinks", "after", c.opts.RelinkDelay, "mode", c.phyMode)
	}
}

// logReserved logs a write to a reserved address, once per SPI frame.
func (c *Chip) logReserved(key, name string, v byte) {
	if c.fr.once(key) {
		c.log.Info("write to a reserved address ignored", "reg", name, "value", v)
	}
}

// misuseOnce reports a misuse once per SPI frame for the given key, so a
// burst over a multi-byte register gives one error.
func (c *Chip) misuseOnce(key, rule, format string, args ...any) {
	if c.fr.once(key) {
		c.misuse(rule, format, args...)
	}
}
