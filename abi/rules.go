package abi

import "unicode/utf8"

// The rules a host applies to what a plugin passes to its imports, as
// ABI.md states them. The host and the fake host of abi/guest/guesttest
// both use these, so a driver tested on the fake host meets the same rules.

// MaxText is how much of a raise or log message a host keeps, in bytes.
const MaxText = 1024

// Text is a message as a host keeps it: at most MaxText bytes, with bytes
// that are not UTF-8 replaced by U+FFFD.
func Text(msg []byte) string {
	if len(msg) > MaxText {
		msg = msg[:MaxText]
	}
	if !utf8.Valid(msg) {
		return string([]rune(string(msg)))
	}
	return string(msg)
}

// Raised is the error a plugin raised with raise(kind, errno, msg); false
// when kind is not one of the Kind* values, which breaks the ABI. The errno
// is kept for OSError only.
func Raised(kind, errno int32, msg []byte) (*Error, bool) {
	if kind < KindValueError || kind > KindUnsupported {
		return nil, false
	}
	if kind != KindOSError {
		errno = 0
	}
	return &Error{Kind: int(kind), Errno: int(errno), Msg: Text(msg)}, true
}

// CheckSPIOps checks the records of one spi_transact: 1 to SPIMaxOps
// records, each with a write or a read buffer (of one length when both are
// given), SPIMaxTransfer bytes in all. It returns the bytes the batch
// clocks, or a negated errno (-EINVAL, -E2BIG).
func CheckSPIOps(ops []SPIOp) (total int, errno int32) {
	if len(ops) == 0 || len(ops) > SPIMaxOps {
		return 0, -EINVAL
	}
	for _, op := range ops {
		w, r := len(op.W), len(op.R)
		if (w == 0 && r == 0) || (w > 0 && r > 0 && w != r) {
			return 0, -EINVAL
		}
		if total += max(w, r); total > SPIMaxTransfer {
			return 0, -E2BIG
		}
	}
	return total, 0
}

// MaxStations is how many stations an access point's report may list.
const MaxStations = 64

// ValidStationsReport checks what a WLAN driver passed to report on its
// access point: the one key "stations", a list of at most MaxStations
// distinct 6-byte unicast MAC addresses (bytes).
func ValidStationsReport(m map[string]any) bool {
	l, ok := m["stations"].([]any)
	if len(m) != 1 || !ok || len(l) > MaxStations {
		return false
	}
	seen := map[string]bool{}
	for _, e := range l {
		b, ok := e.([]byte)
		if !ok || len(b) != 6 || b[0]&1 != 0 || seen[string(b)] {
			return false
		}
		seen[string(b)] = true
	}
	return true
}

// MaxReportDNS is how many DNS servers one report may carry.
const MaxReportDNS = 8

// ValidReport checks what a driver passed to report: only the keys ABI.md
// lists, each of its type ("addr4", "peer4", "addr6", "peer6": str; "dns":
// a list of at most MaxReportDNS str).
func ValidReport(m map[string]any) bool {
	for k, v := range m {
		switch k {
		case "addr4", "peer4", "addr6", "peer6":
			if _, ok := v.(string); !ok {
				return false
			}
		case "dns":
			l, ok := v.([]any)
			if !ok || len(l) > MaxReportDNS {
				return false
			}
			for _, e := range l {
				if _, ok := e.(string); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
