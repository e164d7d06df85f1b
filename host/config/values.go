package config

import (
	"fmt"
	"net"
	"strings"

	"github.com/nichost/nichost/abi"
)

// MaxHostname is the longest hostname network.hostname() accepts.
const MaxHostname = 32

// CheckHostname reports why name is not a hostname network.hostname()
// accepts (a ValueError), or nil.
func CheckHostname(name string) error {
	switch {
	case name == "":
		return abi.ValueError("hostname must not be empty")
	case len(name) > MaxHostname:
		return abi.ValueError("hostname %q is %d characters; at most %d are allowed", clip(name), len(name), MaxHostname)
	}
	for i, labels := 0, strings.Split(name, "."); i < len(labels); i++ {
		l := labels[i]
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return abi.ValueError("hostname %q: labels are 1-63 letters, digits and inner hyphens", name)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return abi.ValueError("hostname %q: %q is not allowed (letters, digits, hyphens, dots)", name, c)
			}
		}
	}
	return nil
}

// CheckCountry returns code as an upper-case ISO 3166-1 alpha-2 code (or XX,
// worldwide), or a ValueError.
func CheckCountry(code string) (string, error) {
	c := strings.ToUpper(code)
	if len(c) != 2 || !strings.Contains(iso3166, " "+c+" ") {
		return "", abi.ValueError("country %q is not an ISO 3166-1 alpha-2 code (or XX for worldwide)", code)
	}
	return c, nil
}

// ParseMAC parses a 6-byte MAC address such as "02:00:00:00:00:01".
func ParseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil {
		return nil, err
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("%q is not a 6-byte MAC address", s)
	}
	if err := CheckMAC(mac); err != nil {
		return nil, err
	}
	return mac, nil
}

// CheckMAC refuses a MAC address an interface cannot own: the broadcast
// address, a multicast (group) address and the all-zero address. Its
// ValueError names the reason.
func CheckMAC(mac []byte) error {
	switch {
	case len(mac) != 6:
		return abi.ValueError("mac: a MAC address is 6 bytes, got %d", len(mac))
	case string(mac) == "\xff\xff\xff\xff\xff\xff":
		return abi.ValueError("mac: %s is the broadcast address, not an interface's", net.HardwareAddr(mac))
	case mac[0]&1 != 0:
		return abi.ValueError("mac: %s is a multicast address (the first octet is odd); an interface needs a unicast one", net.HardwareAddr(mac))
	case string(mac) == "\x00\x00\x00\x00\x00\x00":
		return abi.ValueError("mac: 00:00:00:00:00:00 is not a usable address")
	}
	return nil
}

// iso3166 holds the officially assigned ISO 3166-1 alpha-2 codes, and XX
// (MicroPython's "worldwide").
const iso3166 = " XX " +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS " +
	"BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE " +
	"EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM " +
	"HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC " +
	"LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
	"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
	"TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

// clip shortens a value quoted in an error, so that a huge bad input does
// not make a huge message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
