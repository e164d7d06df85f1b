package driver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Clause 22 registers and bits the driver uses (IEEE 802.3 22.2.4); each
// PHY family's own are in parts.go.
const (
	regBMCR   = 0
	regBMSR   = 1
	regPHYID1 = 2
	regPHYID2 = 3
	regANAR   = 4

	bmcrReset     = 1 << 15
	bmcrANEnable  = 1 << 12
	bmcrPowerDown = 1 << 11
	bmcrANRestart = 1 << 9

	bmsrANComplete = 1 << 5
	bmsrLink       = 1 << 2 // latching low: read twice for the current state

	anarAll = 0x01E1 // 10/100, half and full duplex, IEEE 802.3 selector

	noPHY = 0xFFFF // what an MDIO read of an absent PHY returns (the pull-up)
)

// Errors to match with errors.Is.
var (
	errNoDevice = &abi.Error{Kind: abi.KindOSError, Errno: abi.ENODEV}
	errTimedOut = &abi.Error{Kind: abi.KindOSError, Errno: abi.ETIMEDOUT}
)

// read reads a register of the PHY at d.addr.
func (d *Driver) read(reg int) (uint16, error) {
	v, err := d.mdio.Read(d.addr, reg)
	return v, wrap(fmt.Sprintf("reading PHY register %d", reg), err)
}

// write writes a register of the PHY at d.addr.
func (d *Driver) write(reg int, v uint16) error {
	return wrap(fmt.Sprintf("writing PHY register %d", reg), d.mdio.Write(d.addr, reg, v))
}

// wrap prefixes an error with what the driver was doing, keeping its kind
// and errno.
func wrap(doing string, err error) error {
	if err == nil {
		return nil
	}
	var e *abi.Error
	if errors.As(err, &e) {
		return &abi.Error{Kind: e.Kind, Errno: e.Errno, Msg: "lan: " + doing + ": " + e.Msg}
	}
	return abi.OSError(abi.EIO, "lan: %s: %v", doing, err)
}

// findPHY sets d.addr and d.part to a PHY of the configured type (any
// supported type without options.phy_type): the one at options.phy_addr,
// or the first found by scanning addresses 0 to 31.
func (d *Driver) findPHY() error {
	if d.addrOpt {
		return d.checkPHY(d.addr)
	}
	if d.addr >= 0 && d.checkPHY(d.addr) == nil {
		return nil
	}
	d.addr = -1
	var other error
	for a := 0; a < 32; a++ {
		switch err := d.checkPHY(a); {
		case err == nil:
			d.addr = a
			return nil
		case errors.Is(err, errNoDevice):
			if other == nil {
				other = err
			}
		case !errors.Is(err, errTimedOut):
			return err // the bus failed
		}
	}
	if other != nil {
		return other
	}
	return abi.OSError(abi.ETIMEDOUT, "lan: no PHY answers on the MDIO bus (every address 0-31 reads ID 0xffff)")
}

// checkPHY reads the ID registers at addr: an OSError ETIMEDOUT if no PHY
// answers, ENODEV if the PHY there is not of the configured type. A PHY of
// the configured type becomes d.part.
func (d *Driver) checkPHY(addr int) error {
	id1, err := d.mdio.Read(addr, regPHYID1)
	if err != nil {
		return wrap("reading the PHY ID", err)
	}
	id2, err := d.mdio.Read(addr, regPHYID2)
	if err != nil {
		return wrap("reading the PHY ID", err)
	}
	if (id1 == noPHY && id2 == noPHY) || (id1 == 0 && id2 == 0) {
		return abi.OSError(abi.ETIMEDOUT, "lan: no PHY answers at MDIO address %d (options.phy_addr)", addr)
	}
	found := identify(id1, id2)
	if found != nil && (d.want == nil || found == d.want) {
		d.part = found
		return nil
	}
	is := ""
	if found != nil {
		is = ", a " + found.name
	}
	var want string
	if d.want != nil {
		want = fmt.Sprintf("a %s (%s)", d.phyType, d.want.idPattern())
	} else {
		var ids []string
		for _, p := range parts {
			ids = append(ids, p.name+" "+p.idPattern())
		}
		want = "a PHY this driver supports (" + strings.Join(ids, ", ") + ")"
	}
	return abi.OSError(abi.ENODEV, "lan: the PHY at MDIO address %d has ID %04x:%04x%s, not %s; check options.phy_type and options.phy_addr",
		addr, id1, id2, is, want)
}

// reset starts a soft reset of the PHY, after the family's fix-up (the
// LAN8720A's MODE straps).
func (d *Driver) reset() error {
	if d.part.fixMode != nil {
		if err := d.part.fixMode(d); err != nil {
			return err
		}
	}
	if err := d.write(regBMCR, bmcrReset); err != nil {
		return err
	}
	now := d.env.Now()
	d.setState(stateReset)
	d.since, d.due = now, now+resetFirst
	return nil
}

// step advances the state machine at host time now.
func (d *Driver) step(now time.Duration) error {
	var err error
	switch d.state {
	case stateReset:
		err = d.stepReset(now)
	case stateLinkWait, stateUp:
		err = d.watchLink(now)
	case statePowerDown:
		d.due = now + idlePoll
	}
	if err != nil {
		d.due = now + retryAfter
	}
	return err
}

// stepReset waits for BMCR.RESET to clear, then configures the PHY.
func (d *Driver) stepReset(now time.Duration) error {
	bmcr, err := d.read(regBMCR)
	if err != nil {
		return err
	}
	if bmcr&bmcrReset != 0 {
		if now-d.since < resetTimeout {
			d.due = now + resetPoll
			return nil
		}
		d.env.Logf(abi.LogWarn, "lan: the PHY at MDIO address %d is still in reset after %v; resetting it again", d.addr, resetTimeout)
		return d.reset()
	}
	// Acknowledge interrupt sources left from before (clear on read).
	if _, err := d.read(d.part.isr); err != nil {
		return err
	}
	if err := d.write(regANAR, anarAll); err != nil {
		return err
	}
	bmcr, next := uint16(bmcrANEnable|bmcrANRestart), stateLinkWait
	if d.lowPower {
		bmcr, next = bmcrANEnable|bmcrPowerDown, statePowerDown
	}
	if err := d.write(regBMCR, bmcr); err != nil {
		return err
	}
	d.setState(next)
	d.due = now + linkPoll
	return nil
}

// watchLink reads BMSR twice: the first read returns the latched value (0
// if the link failed since the last read, however briefly), the second the
// current one. A failure is reported to the core even if the link is
// already back, so that it renews what it holds (DHCP).
func (d *Driver) watchLink(now time.Duration) error {
	d.due = now + linkPoll
	first, err := d.read(regBMSR)
	if err != nil {
		return err
	}
	cur, err := d.read(regBMSR)
	if err != nil {
		return err
	}
	if cur == noPHY {
		if !d.silent {
			d.env.Logf(abi.LogWarn, "lan: the PHY at MDIO address %d stopped answering", d.addr)
		}
		d.silent = true
		d.setState(stateLinkWait)
		d.due = now + retryAfter
		return nil
	}
	if d.silent {
		d.env.Logf(abi.LogInfo, "lan: the PHY at MDIO address %d answers again", d.addr)
		d.silent = false
	}
	failed := d.dropped || first&bmsrLink == 0
	d.dropped = false
	if d.state == stateUp && failed {
		d.setState(stateLinkWait)
	}
	if cur&bmsrLink == 0 || cur&bmsrANComplete == 0 {
		d.setState(stateLinkWait)
		return nil
	}
	if d.state != stateUp {
		speed, full, ok, err := d.part.mode(d)
		if err != nil {
			return err
		}
		if !ok { // not resolved yet: look again at the next watch
			if d.trace.Has(guest.TraceEvents) {
				d.env.Logf(abi.LogDebug, "lan: the %s reports a link but no speed and duplex yet", d.part.name)
			}
			return nil
		}
		d.speed, d.full = speed, full
		d.setState(stateUp)
	}
	return nil
}

// readBMSR reads BMSR outside the link watch, remembering a latched link
// failure for the watch to report.
func (d *Driver) readBMSR() (uint16, error) {
	v, err := d.read(regBMSR)
	if err == nil && v != noPHY && v&bmsrLink == 0 && d.state == stateUp {
		d.dropped = true
	}
	return v, err
}

// phyLink reports whether the PHY has a link of its own, for status() while
// the interface is inactive. Any failure counts as no link.
func (d *Driver) phyLink() bool {
	if d.addr < 0 && d.findPHY() != nil {
		return false
	}
	if _, err := d.readBMSR(); err != nil {
		return false
	}
	v, err := d.readBMSR()
	return err == nil && v != noPHY && v&bmsrLink != 0
}

// setLowPower powers the PHY down (on) or up. While a reset is under way,
// or before the PHY was found, the setting waits for the PHY's
// configuration after reset.
func (d *Driver) setLowPower(on bool) error {
	if on == d.lowPower {
		return nil
	}
	d.warm = false // the PHY changes: active(True) resets it as usual
	if d.state == stateReset || d.addr < 0 {
		d.lowPower = on
		return nil
	}
	bmcr, err := d.read(regBMCR)
	if err != nil {
		return err
	}
	if bmcr == noPHY {
		d.lowPower = on // nobody answers: applied after the next reset
		return nil
	}
	if on {
		bmcr |= bmcrPowerDown
	} else {
		bmcr &^= bmcrPowerDown
		if bmcr&bmcrANEnable != 0 {
			bmcr |= bmcrANRestart
		}
	}
	if err := d.write(regBMCR, bmcr); err != nil {
		return err
	}
	d.lowPower = on
	if !d.active {
		return nil
	}
	if on {
		d.setState(statePowerDown)
		d.due = d.env.Now() + idlePoll
	} else {
		d.setState(stateLinkWait)
		d.due = d.env.Now() + linkPoll
	}
	d.arm()
	return nil
}
