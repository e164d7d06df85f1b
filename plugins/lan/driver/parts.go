package driver

import (
	"fmt"
	"strconv"
)

// The PHYs the driver supports. Their registers and bits are defined here
// (IEEE 802.3 clause 22, the LAN8720A and KSZ8081RNA datasheets) and,
// independently, in the simulator (plugins/lan/phy), so the tests
// cross-check the two readings.

// LAN8720A vendor registers and bits.
const (
	regSMR   = 18 // special modes
	regISR   = 29 // interrupt source (clear on read)
	regPSCSR = 31 // PHY special control/status

	smrModeMask   = 7 << 5
	smrModePDown  = 6 << 5 // MODE 110: the PHY leaves reset powered down
	smrModeAllCap = 7 << 5 // MODE 111: all capable, auto-negotiation on

	pscsrFull = 1 << 4 // HCDSPEED (bits 4:2): bit 4 full duplex, bit 3 100M, bit 2 10M
	pscsr100  = 1 << 3
)

// KSZ8081 vendor registers and the operation modes of PHY Control 1.
const (
	regICSR  = 0x1B // interrupt control/status: events in bits 7:0, clear on read
	regPHYC1 = 0x1E // PHY control 1: operation mode in bits 2:0

	phyc1OpMask = 7
	phyc1Op10HD = 1
	phyc1Op100H = 2
	phyc1Op10FD = 5
	phyc1Op100F = 6
)

// part is one family of PHYs: its identifier, what its bring-up reads and
// writes besides the clause 22 registers, how it tells the resolved mode,
// and the registers regs() returns.
type part struct {
	name     string // the phy_type value the family is known by
	id1, id2 uint16 // PHYID1, and PHYID2 without its revision (id2Mask)
	// fixMode, if set, runs before the soft reset.
	fixMode func(d *Driver) error
	// isr is the clear-on-read interrupt register read once after reset.
	isr int
	// mode reads the resolved speed and duplex once the link is up; ok
	// false means the PHY has not resolved it yet (look again later).
	mode func(d *Driver) (speed int, full, ok bool, err error)
	// regs are the registers regs() returns, each keyed by regNames or
	// by its number.
	regs     []int
	regNames map[int]string
}

const id2Mask = 0xFFF0 // PHYID2's low 4 bits are the silicon revision

// clause22Names name the IEEE 802.3 registers 0-8.
var clause22Names = map[int]string{
	0: "bmcr", 1: "bmsr", 2: "phyid1", 3: "phyid2", 4: "anar", 5: "anlpar", 6: "aner", 7: "annp", 8: "lpnp",
}

// lan87 is the LAN8720A and the PHYs that share its ID model 0x0F
// (LAN8720, LAN8710, LAN8710A), as Linux's "SMSC LAN8710/LAN8720" entry
// does: OUI 00-80-0F.
var lan87 = &part{
	name: "LAN8720", id1: 0x0007, id2: 0xC0F0,
	fixMode: lan87FixMode,
	isr:     regISR,
	mode:    lan87Mode,
	regs:    regRange([2]int{0, 6}, [2]int{17, 31}),
	regNames: withClause22(7, map[int]string{
		17: "mcsr", 18: "smr", 26: "secr", 27: "csir", 29: "isr", 30: "imr", 31: "pscsr",
	}),
}

// ksz8081 is the Microchip KSZ8081 (and the KSZ8091, which shares its
// ID): OUI 00-10-A1, model 0x16.
var ksz8081 = &part{
	name: "KSZ8081", id1: 0x0022, id2: 0x1560,
	isr:  regICSR,
	mode: kszMode,
	regs: regRange([2]int{0, 8}, [2]int{16, 31}),
	regNames: withClause22(9, map[int]string{
		16: "drc", 17: "afec1", 21: "rxerc", 22: "omso", 23: "omss", 24: "exc",
		27: "icsr", 29: "linkmd", 30: "phyc1", 31: "phyc2",
	}),
}

// phyTypes are the phy_type values this driver accepts, in the order its
// errors list them, and the family each one names.
var phyTypes = []struct {
	name string
	part *part
}{
	{"LAN8720", lan87}, {"LAN8720A", lan87}, {"LAN8710", lan87}, {"LAN8710A", lan87},
	{"KSZ8081", ksz8081},
}

// parts are the families auto-detection accepts, in the order it tries.
var parts = []*part{lan87, ksz8081}

// identify returns the family of a PHY identifier, or nil.
func identify(id1, id2 uint16) *part {
	for _, p := range parts {
		if id1 == p.id1 && id2&id2Mask == p.id2 {
			return p
		}
	}
	return nil
}

// idPattern is the family's identifier as the errors print it, the
// revision digit an X: "0007:c0fX".
func (p *part) idPattern() string {
	return fmt.Sprintf("%04x:%03xX", p.id1, p.id2>>4)
}

// key is regs()'s key for register r.
func (p *part) key(r int) string {
	if k, ok := p.regNames[r]; ok {
		return k
	}
	return strconv.Itoa(r)
}

// lan87FixMode: a PHY whose MODE straps say power-down would leave reset
// powered down, so MODE is set to "all capable" first, as Linux's LAN87xx
// driver does.
func lan87FixMode(d *Driver) error {
	smr, err := d.read(regSMR)
	if err != nil {
		return err
	}
	if smr&smrModeMask == smrModePDown {
		return d.write(regSMR, smr&^smrModeMask|smrModeAllCap)
	}
	return nil
}

// lan87Mode reads PSCSR's HCDSPEED.
func lan87Mode(d *Driver) (int, bool, bool, error) {
	v, err := d.read(regPSCSR)
	if err != nil {
		return 0, false, false, err
	}
	speed := 10
	if v&pscsr100 != 0 {
		speed = 100
	}
	return speed, v&pscsrFull != 0, true, nil
}

// kszMode reads PHY Control 1's operation mode indication; 000 (still
// negotiating) and the reserved codes are not a mode yet.
func kszMode(d *Driver) (int, bool, bool, error) {
	v, err := d.read(regPHYC1)
	if err != nil {
		return 0, false, false, err
	}
	switch v & phyc1OpMask {
	case phyc1Op10HD:
		return 10, false, true, nil
	case phyc1Op100H:
		return 100, false, true, nil
	case phyc1Op10FD:
		return 10, true, true, nil
	case phyc1Op100F:
		return 100, true, true, nil
	}
	return 0, false, false, nil
}

// regRange lists the registers of the inclusive ranges.
func regRange(ranges ...[2]int) []int {
	var out []int
	for _, r := range ranges {
		for i := r[0]; i <= r[1]; i++ {
			out = append(out, i)
		}
	}
	return out
}

// withClause22 adds the names of the clause 22 registers below n to
// vendor.
func withClause22(n int, vendor map[int]string) map[int]string {
	for r, k := range clause22Names {
		if r < n {
			vendor[r] = k
		}
	}
	return vendor
}
