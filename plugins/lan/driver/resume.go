package driver

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// The warm handover (ABI.md "Warm handover"): on a reload the old instance
// hands over what the PHY does not tell by itself, and the new one checks
// the PHY against it and takes the running link over without a reset, so
// the link never goes down. After a fault there is no state: the new
// instance takes a PHY it finds configured and linked, and the replayed
// active(True) then reports the link at once instead of resetting it.

var _ guest.Resumer = (*Driver)(nil)

// stateMagic starts the handed-over state: the driver and the version of
// its layout. A state without it (another driver's, another version's) is
// refused, and the instance starts cold.
var stateMagic = []byte("nichost-lan\x01")

// handover is the state one instance hands to the next.
type handover struct {
	active, full, lowPower bool
	state                  state
	addr                   int // the PHY's MDIO address, -1 if none found
	part                   int // index in parts, -1 if none found
	speed                  int
	trace                  guest.Trace
	mac                    []byte
}

// Suspend implements guest.Resumer. The driver holds nothing between calls
// that the device does not (frames go to the port as they are offered), so
// it only writes down its state machine and settings.
func (d *Driver) Suspend() ([]byte, error) {
	b := slices.Clone(stateMagic)
	b = append(b, flag(d.active), flag(d.full), flag(d.lowPower), byte(d.state), byte(int8(d.addr)), byte(int8(slices.Index(parts, d.part))), byte(d.speed))
	b = append(b, byte(d.trace), byte(d.trace>>8), byte(d.trace>>16), byte(d.trace>>24))
	b = append(b, byte(len(d.mac)))
	return append(b, d.mac...), nil
}

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// decodeHandover reads what Suspend wrote.
func decodeHandover(b []byte) (handover, error) {
	var h handover
	rest, ok := bytes.CutPrefix(b, stateMagic)
	if !ok {
		return h, errors.New("the state is not this driver's (another driver or another version of it)")
	}
	if len(rest) < 12 || len(rest) != 12+int(rest[11]) {
		return h, fmt.Errorf("the state has %d bytes, which is not the layout this driver writes", len(b))
	}
	h.active, h.full, h.lowPower = rest[0] == 1, rest[1] == 1, rest[2] == 1
	h.state = state(rest[3])
	h.addr, h.part, h.speed = int(int8(rest[4])), int(int8(rest[5])), int(rest[6])
	h.trace = guest.Trace(uint32(rest[7]) | uint32(rest[8])<<8 | uint32(rest[9])<<16 | uint32(rest[10])<<24)
	h.mac = slices.Clone(rest[12:])
	if h.state > statePowerDown || h.part >= len(parts) || h.addr > 31 || (h.addr >= 0) != (h.part >= 0) {
		return h, errors.New("the state holds values this driver never writes")
	}
	return h, nil
}

// Resume implements guest.Resumer: it takes the running PHY over if it is
// the one the state describes, in the state described.
func (d *Driver) Resume(r abi.Resume) error {
	if r.State == nil {
		return d.adoptPHY()
	}
	h, err := decodeHandover(r.State)
	if err != nil {
		return err
	}
	if d.addrOpt && h.addr != d.addr {
		return fmt.Errorf("the previous instance drove the PHY at MDIO address %d, options.phy_addr says %d", h.addr, d.addr)
	}
	if h.part < 0 {
		if h.active {
			return errors.New("the previous instance was active without a PHY")
		}
		// Nothing was found yet: nothing to take over but the settings.
		d.lowPower, d.trace, d.mac = h.lowPower, h.trace, h.mac
		return nil
	}
	if err := d.checkPHY(h.addr); err != nil {
		d.part = nil
		return fmt.Errorf("the PHY is not the one the state describes: %w", err)
	}
	if d.part != parts[h.part] {
		found := d.part
		d.part = nil
		return fmt.Errorf("the state describes a %s at MDIO address %d, which now reads as a %s", parts[h.part].name, h.addr, found.name)
	}
	d.addr = h.addr
	bmcr, err := d.read(regBMCR)
	if err != nil {
		d.part, d.addr = nil, -1
		return err
	}
	if h.active && h.state != stateReset && (bmcr&bmcrReset != 0 || bmcr&bmcrANEnable == 0 || (bmcr&bmcrPowerDown != 0) != (h.state == statePowerDown)) {
		d.part, d.addr = nil, -1
		return fmt.Errorf("the PHY's BMCR reads 0x%04x, not what the %v state left", bmcr, h.state)
	}
	d.active, d.lowPower, d.trace, d.mac = h.active, h.lowPower, h.trace, h.mac
	d.speed, d.full = h.speed, h.full
	// The state is taken as it was, without reporting it: the core has it
	// (the host held the link). The first poll's link watch reads BMSR and
	// reports whatever changed during the swap.
	d.state = h.state
	now := d.env.Now()
	d.since, d.due = now, now
	if d.active {
		d.arm()
	}
	return nil
}

// adoptPHY takes over, after a fault, a PHY the failed instance left
// configured: the configured type at the expected address, out of reset,
// auto-negotiating and powered up. The driver stays inactive; the
// replayed active(True) finds the PHY ready and reports its link without
// resetting it (warm).
func (d *Driver) adoptPHY() error {
	if err := d.findPHY(); err != nil {
		d.part, d.addr = nil, -1
		return fmt.Errorf("no PHY to take over: %w", err)
	}
	bmcr, err := d.read(regBMCR)
	if err != nil {
		return err
	}
	if bmcr&bmcrReset != 0 || bmcr&bmcrANEnable == 0 || bmcr&bmcrPowerDown != 0 {
		return fmt.Errorf("the PHY's BMCR reads 0x%04x: not configured for auto-negotiation and running", bmcr)
	}
	d.warm = true
	return nil
}

// activateWarm is active(True) on a PHY taken over after a fault: the
// link watch takes the link as it is, at once, without a reset.
func (d *Driver) activateWarm() error {
	d.warm = false
	d.active = true
	d.state = stateLinkWait
	now := d.env.Now()
	if err := d.watchLink(now); err != nil {
		return err
	}
	d.arm()
	return nil
}
