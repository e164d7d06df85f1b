package regdb

import (
	"fmt"
	"slices"
)

//go:generate go run ./internal/gen -db ${REGDB_TXT} -version ${REGDB_VERSION} -o table.go

// UnknownCountryError is Lookup's error for a code it has no rules for,
// including anything that is not a two-letter code.
type UnknownCountryError struct {
	Code string // as given to Lookup
}

func (e *UnknownCountryError) Error() string {
	return fmt.Sprintf("regdb: no rules for country %q", e.Code)
}

// Worldwide is nichost's code for the world domain, as in MicroPython.
const Worldwide = "XX"

// Rules is what one country allows on the 2.4 GHz band (channels 1..14).
// All slices are ascending channel numbers and belong to the caller.
type Rules struct {
	Country  string // upper case: "DE", or "XX" for worldwide
	Channels []int  // allowed channels
	// MaxEIRP is the highest EIRP in whole dBm (rounded down) allowed on any
	// of Channels; MaxPower gives the limit of one channel.
	MaxEIRP int
	// NoIR lists the allowed channels where the station may not initiate
	// radiation (db.txt NO-IR): passive scan only, no probes, no beacons,
	// only answer an AP that is already heard.
	NoIR []int
	// NoOFDM lists the channels limited to 802.11b (DSSS/CCK), e.g. JP's
	// channel 14.
	NoOFDM []int
	// NoOutdoor lists the channels allowed indoors only (db.txt NO-OUTDOOR).
	NoOutdoor []int
	// HT40Plus lists the primary channels c for which a 40 MHz channel with
	// the secondary above (c and c+4) is allowed; HT40Minus those with the
	// secondary below (c and c-4).
	HT40Plus  []int
	HT40Minus []int

	mBm [15]int16 // per channel, index = channel; valid where allowed
}

// Allows reports whether channel ch may be used.
func (r Rules) Allows(ch int) bool { return slices.Contains(r.Channels, ch) }

// MaxPower is channel ch's EIRP limit in whole dBm (rounded down, so it
// never exceeds the limit); ok is false if ch is not allowed.
func (r Rules) MaxPower(ch int) (dBm int, ok bool) {
	m, ok := r.MaxPowerMBm(ch)
	return m / 100, ok
}

// MaxPowerMBm is channel ch's EIRP limit in mBm (1/100 dBm), the unit the
// kernel's regulatory database uses (db.txt's "500 mW" is 2698 mBm).
func (r Rules) MaxPowerMBm(ch int) (mBm int, ok bool) {
	if !r.Allows(ch) {
		return 0, false
	}
	return int(r.mBm[ch]), true
}

// PassiveOnly reports whether ch is allowed but NO-IR (see Rules.NoIR).
func (r Rules) PassiveOnly(ch int) bool { return slices.Contains(r.NoIR, ch) }

// HT40 reports whether a 40 MHz channel with primary ch is allowed with
// the secondary channel above (ch+4) and below (ch-4).
func (r Rules) HT40(ch int) (above, below bool) {
	return slices.Contains(r.HT40Plus, ch), slices.Contains(r.HT40Minus, ch)
}

// Lookup returns the rules of an ISO 3166-1 alpha-2 country code, in any
// case, or of "XX" (worldwide: channels 1..11). For a code it has no
// rules for the error is an *UnknownCountryError naming it.
func Lookup(code string) (Rules, error) {
	up, ok := upper2(code)
	if !ok {
		return Rules{}, &UnknownCountryError{code}
	}
	i, found := slices.BinarySearchFunc(table[:], up, func(e entry, c string) int {
		switch {
		case e.code < c:
			return -1
		case e.code > c:
			return 1
		}
		return 0
	})
	if !found {
		return Rules{}, &UnknownCountryError{code}
	}
	return table[i].rules(), nil
}

// Countries lists the codes Lookup knows, upper case, sorted, "XX" included.
func Countries() []string {
	out := make([]string, len(table))
	for i, e := range table {
		out[i] = e.code
	}
	return out
}

// upper2 upper-cases a two-letter ASCII code; ok is false for anything else.
func upper2(code string) (string, bool) {
	if len(code) != 2 {
		return "", false
	}
	var b [2]byte
	for i := range 2 {
		c := code[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		b[i] = c
	}
	return string(b[:]), true
}

// Channel flags of the generated table.
const (
	noIR      = 1 << iota // db.txt NO-IR
	noOFDM                // db.txt NO-OFDM
	noOutdoor             // db.txt NO-OUTDOOR
	ht40Plus              // 40 MHz with the secondary channel above
	ht40Minus             // 40 MHz with the secondary channel below
)

// run is a stretch of consecutive allowed channels with the same limit and
// flags.
type run struct {
	first, last int8
	mBm         int16
	flags       uint8
}

// entry is one country of the generated table.
type entry struct {
	code string
	runs []run
}

func (e entry) rules() Rules {
	r := Rules{Country: e.code}
	best := -1
	for _, u := range e.runs {
		for ch := int(u.first); ch <= int(u.last); ch++ {
			r.Channels = append(r.Channels, ch)
			r.mBm[ch] = u.mBm
			best = max(best, int(u.mBm))
			if u.flags&noIR != 0 {
				r.NoIR = append(r.NoIR, ch)
			}
			if u.flags&noOFDM != 0 {
				r.NoOFDM = append(r.NoOFDM, ch)
			}
			if u.flags&noOutdoor != 0 {
				r.NoOutdoor = append(r.NoOutdoor, ch)
			}
			if u.flags&ht40Plus != 0 {
				r.HT40Plus = append(r.HT40Plus, ch)
			}
			if u.flags&ht40Minus != 0 {
				r.HT40Minus = append(r.HT40Minus, ch)
			}
		}
	}
	if best >= 0 {
		r.MaxEIRP = best / 100
	}
	return r
}
