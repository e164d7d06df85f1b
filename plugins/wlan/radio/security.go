package radio

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"fmt"
)

// Security as MicroPython's scan() tuple and WLAN.SEC_* give it (ESP32
// numbering).
//
// On an AP it is what the AP offers; in a JoinRequest what the station
// offers. Each value stands for a set of key-management methods:
//
//	SecOpen      open
//	SecWEP       WEP
//	SecWPA       WPA-PSK
//	SecWPA2      WPA2-PSK
//	SecWPAWPA2   WPA-PSK or WPA2-PSK
//	SecWPA3      SAE
//	SecWPA2WPA3  WPA2-PSK or SAE
//
// A join is accepted when the station's set and the AP's set share a
// method (see Accepts); the strongest shared one is used (SAE, then
// WPA2-PSK, then WPA-PSK).
type Security int

// The security kinds.
const (
	SecOpen     Security = 0
	SecWEP      Security = 1
	SecWPA      Security = 2 // WPA-PSK (TKIP)
	SecWPA2     Security = 3 // WPA2-PSK (AES)
	SecWPAWPA2  Security = 4
	SecWPA3     Security = 6 // WPA3-SAE
	SecWPA2WPA3 Security = 7 // transition mode: WPA2-PSK or SAE
)

// method is one key-management method, a bit in a set.
type method uint8

const (
	mOpen method = 1 << iota
	mWEP
	mWPA
	mWPA2
	mSAE
)

// methods returns the set s stands for; 0 for an unknown value.
func (s Security) methods() method {
	switch s {
	case SecOpen:
		return mOpen
	case SecWEP:
		return mWEP
	case SecWPA:
		return mWPA
	case SecWPA2:
		return mWPA2
	case SecWPAWPA2:
		return mWPA | mWPA2
	case SecWPA3:
		return mSAE
	case SecWPA2WPA3:
		return mWPA2 | mSAE
	}
	return 0
}

// Valid reports whether s is one of the Sec constants.
func (s Security) Valid() bool { return s.methods() != 0 }

// Accepts reports whether an AP offering s accepts a station offering
// station: whether they share a method. The table:
//
//	AP \ station  Open WEP WPA WPA2 WPA/WPA2 WPA3 WPA2/WPA3
//	Open           x
//	WEP                 x
//	WPA                     x         x
//	WPA2                        x     x              x
//	WPA/WPA2                x   x     x              x
//	WPA3                                     x       x
//	WPA2/WPA3                   x     x      x       x
func (s Security) Accepts(station Security) bool {
	return s.methods()&station.methods() != 0
}

// String returns the kind's name, as "WPA2/WPA3".
func (s Security) String() string {
	switch s {
	case SecOpen:
		return "open"
	case SecWEP:
		return "WEP"
	case SecWPA:
		return "WPA"
	case SecWPA2:
		return "WPA2"
	case SecWPAWPA2:
		return "WPA/WPA2"
	case SecWPA3:
		return "WPA3"
	case SecWPA2WPA3:
		return "WPA2/WPA3"
	}
	return fmt.Sprintf("Security(%d)", int(s))
}

// isWPA reports whether s uses a WPA-style passphrase (8..63 printable).
func (s Security) isWPA() bool { return s.methods()&(mWPA|mWPA2|mSAE) != 0 }

// PMK returns the WPA/WPA2 pairwise master key of passphrase on the
// network ssid: PBKDF2-HMAC-SHA1(passphrase, ssid, 4096 iterations, 32
// bytes), what a station may give in JoinRequest.PMK.
func PMK(passphrase, ssid string) []byte {
	k, err := pbkdf2.Key(sha1.New, passphrase, []byte(ssid), 4096, 32)
	if err != nil { // only for a bad key length, which 32 is not
		panic(err)
	}
	return k
}

// equal compares secrets in constant time.
func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
