package radio

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"slices"

	"github.com/nichost/nichost/host/bus"
)

// ScanRequest says what a scan looks for.
type ScanRequest struct {
	SSID     string           // "" all; with Active, hidden APs with this SSID answer (SSID filled)
	BSSID    net.HardwareAddr // nil any
	Channels []int            // nil all (1..14)
	Passive  bool             // passive: only beacons (hidden APs show SSID "")
}

// JoinRequest says which network a station joins and how.
type JoinRequest struct {
	SSID     string
	BSSID    net.HardwareAddr // nil: any AP with SSID (strongest)
	Channels []int            // nil all
	// What the station offers: the auth it configured and its secret.
	Security   Security // SecOpen, SecWEP, SecWPA, SecWPA2, SecWPA3 (SAE), SecWPA2WPA3 (either)
	Passphrase string   // WPA/WPA2 passphrase, SAE password, WEP key
	PMK        []byte   // instead of Passphrase for WPA/WPA2: the 32-byte PMK (PBKDF2-SHA1(pass, ssid, 4096))
}

// JoinResult is the outcome of a join.
type JoinResult int

// The join outcomes.
const (
	JoinOK        JoinResult = iota
	JoinNoNetwork            // no AP with that SSID (and BSSID) on the channels, or it is off
	JoinWrongKey             // security matches, secret does not (4-way handshake / SAE fails)
	JoinMismatch             // the AP's security does not offer what the station asked (e.g. open vs WPA2)
)

// String returns the outcome's name.
func (r JoinResult) String() string {
	switch r {
	case JoinOK:
		return "ok"
	case JoinNoNetwork:
		return "no network"
	case JoinWrongKey:
		return "wrong key"
	case JoinMismatch:
		return "security mismatch"
	}
	return fmt.Sprintf("JoinResult(%d)", int(r))
}

// Station is a Wi-Fi station (a chip's radio) in the environment.
type Station struct {
	env  *Env
	mac  net.HardwareAddr
	rx   func([]byte)
	lost func(net.HardwareAddr, Loss)

	// guarded by env.mu
	ap      *AP    // the AP joined, nil if none
	ssid    string // the SSID joined
	stats   Stats
	closed  bool
	level   int  // SetRSSI's level, as APs hear the station
	leveled bool // SetRSSI was called
}

// NewStation makes a station with mac. rx gets each frame (802.3, no FCS)
// the AP delivers to it; lost is called when the AP it joined vanishes or
// closes (on its own goroutine, after BeaconLoss) or deauthenticates it
// (AP.Stop: at once, on Stop's goroutine), with the BSSID.
//
// rx runs on the goroutine that made the frame arrive: the AP's port
// reader for frames from the LAN, the sender's Send for frames from
// another station, the caller of AP.Transmit. It owns the slice it is
// given and must not call Close of the AP. rx and lost may be nil. A
// station made after Env.Close is closed. mac must have 6 bytes
// (NewStation panics otherwise).
func (e *Env) NewStation(mac net.HardwareAddr, rx func(frame []byte), lost func(bssid net.HardwareAddr)) *Station {
	var l func(net.HardwareAddr, Loss)
	if lost != nil {
		l = func(b net.HardwareAddr, _ Loss) { lost(b) }
	}
	return e.newStation("NewStation", mac, rx, l)
}

// NewStationLoss is NewStation with a lost function that also learns why
// the AP was lost: LossBeacon (it vanished) or LossDeauth (it
// deauthenticated the station), so that a chip can report each as the
// firmware would.
func (e *Env) NewStationLoss(mac net.HardwareAddr, rx func(frame []byte), lost func(bssid net.HardwareAddr, why Loss)) *Station {
	return e.newStation("NewStationLoss", mac, rx, lost)
}

func (e *Env) newStation(fn string, mac net.HardwareAddr, rx func([]byte), lost func(net.HardwareAddr, Loss)) *Station {
	if len(mac) != 6 {
		panic(fmt.Sprintf("radio: %s: MAC %v has %d bytes, want 6", fn, mac, len(mac)))
	}
	s := &Station{env: e, mac: slices.Clone(mac), rx: rx, lost: lost}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		s.closed = true
		return s
	}
	e.stations = append(e.stations, s)
	return s
}

// MAC returns the station's address.
func (s *Station) MAC() net.HardwareAddr { return slices.Clone(s.mac) }

// onChannel reports whether ch is in chans (nil: any of 1..14).
func onChannel(chans []int, ch int) bool {
	if chans == nil {
		return ch >= 1 && ch <= 14
	}
	return slices.Contains(chans, ch)
}

// Scan returns the APs in reach now, strongest first (equal levels by
// BSSID): those on the air on the requested channels whose BSSID and
// SSID match. A hidden AP beacons with an empty SSID, so it shows SSID ""
// (and matches only SSID ""), except to an active scan for its SSID, which
// it answers with it. An active scan sends one probe request per channel
// (Stats.Probes of the station); every AP on the air on a probed channel
// hears it (Stats.Probes of the AP). A closed station finds nothing.
func (s *Station) Scan(r ScanRequest) []BSS {
	e := s.env
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.closed {
		return nil
	}
	if !r.Passive {
		n := uint64(14)
		if r.Channels != nil {
			n = 0
			for ch := 1; ch <= 14; ch++ {
				if slices.Contains(r.Channels, ch) {
					n++
				}
			}
		}
		s.stats.Probes += n
		e.stats.Probes += n
	}
	var l []BSS
	for _, a := range e.aps {
		if !a.on || !onChannel(r.Channels, a.cfg.Channel) {
			continue
		}
		if !r.Passive {
			a.stats.Probes++
		}
		if r.BSSID != nil && !bytes.Equal(r.BSSID, a.cfg.BSSID) {
			continue
		}
		ssid := a.cfg.SSID
		if a.cfg.Hidden && (r.Passive || r.SSID != ssid) {
			ssid = ""
		}
		if r.SSID != "" && r.SSID != ssid {
			continue
		}
		l = append(l, a.bss(ssid))
	}
	sortBSS(l)
	return l
}

// sortBSS orders l strongest first, then by BSSID.
func sortBSS(l []BSS) {
	slices.SortStableFunc(l, func(x, y BSS) int {
		if c := cmp.Compare(y.RSSI, x.RSSI); c != 0 {
			return c
		}
		return bytes.Compare(x.BSSID, y.BSSID)
	})
}

// Join associates the station with an AP: the one with BSSID if given,
// else the strongest with the SSID on the channels, among the APs on the
// air (equal levels: the lowest BSSID, as Scan orders them; a hidden AP
// is found by its SSID, as a directed probe would). A
// station already joined leaves its AP first. The decision is immediate;
// the chip simulator decides how long it takes.
//
// The outcome: JoinNoNetwork if no such AP; JoinMismatch if the AP does not
// accept the security the station offers (Security.Accepts); JoinWrongKey
// if the secret does not match for the method used, the strongest both
// share (SAE, WPA2-PSK, WPA-PSK): for WPA-PSK and WPA2-PSK a PMK (if given
// instead of a passphrase) must equal the AP's PMK (see PMK), a passphrase
// the AP's; for SAE and WEP the passphrase must equal the AP's. A station
// that gives only a PMK cannot do SAE or WEP. Else JoinOK: the station is
// associated (the AP's Stations lists it, Send works) and the BSS is the
// AP, with its SSID even when hidden. On any other outcome the station is
// not joined and the BSS is the AP tried (zero for JoinNoNetwork).
//
// A hosted AP's Join hook (and the Leave hook of a hosted AP left) runs
// before Join returns, unless another goroutine is running that AP's hooks
// (then that one runs it, in order).
func (s *Station) Join(r JoinRequest) (JoinResult, BSS) {
	e := s.env
	var left, joined *AP
	defer func() { left.flush(); joined.flush() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.closed {
		return JoinNoNetwork, BSS{}
	}
	left = s.leave()
	var ap *AP
	for _, a := range e.aps {
		if !a.on || a.cfg.SSID != r.SSID || !onChannel(r.Channels, a.cfg.Channel) {
			continue
		}
		if r.BSSID != nil && !bytes.Equal(r.BSSID, a.cfg.BSSID) {
			continue
		}
		if ap == nil || a.rssi > ap.rssi || (a.rssi == ap.rssi && bytes.Compare(a.cfg.BSSID, ap.cfg.BSSID) < 0) {
			ap = a
		}
	}
	if ap == nil {
		return JoinNoNetwork, BSS{}
	}
	b := ap.bss(ap.cfg.SSID)
	res := decide(ap, r)
	if res != JoinOK {
		ap.stats.AuthFailures++
		s.stats.AuthFailures++
		e.stats.AuthFailures++
		return res, b
	}
	ap.stats.Assocs++
	s.stats.Assocs++
	e.stats.Assocs++
	ap.stations = append(ap.stations, s)
	s.ap, s.ssid = ap, ap.cfg.SSID
	ap.note(true, s.mac)
	joined = ap
	return JoinOK, b
}

// decide returns the outcome of r on ap. env.mu is held.
func decide(ap *AP, r JoinRequest) JoinResult {
	offer := r.Security.methods()
	if r.Passphrase == "" && r.PMK != nil {
		offer &^= mSAE | mWEP
	}
	shared := offer & ap.cfg.Security.methods()
	switch {
	case shared == 0:
		return JoinMismatch
	case shared&mSAE != 0, shared&mWEP != 0:
		if r.Passphrase != ap.cfg.Passphrase {
			return JoinWrongKey
		}
	case shared&(mWPA|mWPA2) != 0:
		if r.Passphrase == "" && r.PMK != nil {
			if !equal(r.PMK, ap.pmk) {
				return JoinWrongKey
			}
		} else if r.Passphrase != ap.cfg.Passphrase {
			return JoinWrongKey
		}
	}
	return JoinOK
}

// Leave disassociates the station (no lost call; a hosted AP's Leave hook
// runs as for Join).
func (s *Station) Leave() {
	s.env.mu.Lock()
	a := s.leave()
	s.env.mu.Unlock()
	a.flush()
}

// leave is Leave with env.mu held; it returns the AP left (nil if none),
// whose hooks the caller flushes once env.mu is released.
func (s *Station) leave() *AP {
	a := s.ap
	if a == nil {
		return nil
	}
	if i := slices.Index(a.stations, s); i >= 0 {
		a.stations = slices.Delete(a.stations, i, i+1)
	}
	s.ap, s.ssid = nil, ""
	a.note(false, s.mac)
	return a
}

// Joined returns the AP the station is associated with (its SSID filled,
// its current RSSI) and true, or false if none. A station stays joined to a
// vanished AP until BeaconLoss has passed.
func (s *Station) Joined() (BSS, bool) {
	s.env.mu.Lock()
	defer s.env.mu.Unlock()
	if s.ap == nil {
		return BSS{}, false
	}
	return s.ap.bss(s.ssid), true
}

// RSSI returns the current level of the AP joined, false if not joined.
func (s *Station) RSSI() (int, bool) {
	s.env.mu.Lock()
	defer s.env.mu.Unlock()
	if s.ap == nil {
		return 0, false
	}
	return s.ap.rssi, true
}

// Send transmits an 802.3 frame (destination MAC first, no FCS, 14..1514
// bytes) to the AP joined. The AP bridges it: to the associated station it
// is addressed to, else out of its wired port (a hosted AP: to its Rx
// hook); a broadcast or multicast frame goes both to the port (Rx hook)
// and to the AP's other stations. The frame is
// passed on as it is (its source address is not checked). Send returns an
// error for a bad length, when not joined, or when closed; a frame sent to
// a vanished AP (before BeaconLoss) is lost without error, as on the air.
// Send does not retain frame.
func (s *Station) Send(frame []byte) error {
	if err := bus.CheckFrame(frame, MTU); err != nil {
		return fmt.Errorf("radio: Send: %w", err)
	}
	e := s.env
	e.mu.Lock()
	if s.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	a := s.ap
	if a == nil {
		e.mu.Unlock()
		return ErrNotJoined
	}
	n := uint64(len(frame))
	s.stats.TxFrames++
	s.stats.TxBytes += n
	e.stats.TxFrames++
	e.stats.TxBytes += n
	if !a.on {
		e.mu.Unlock()
		return nil
	}
	a.stats.RxFrames++
	a.stats.RxBytes += n
	e.stats.RxFrames++
	e.stats.RxBytes += n
	frame = slices.Clone(frame)
	group := frame[0]&1 != 0
	local := false
	if !group {
		for _, o := range a.stations {
			if o != s && bytes.Equal(o.mac, frame[:6]) {
				local = true
				break
			}
		}
	}
	var d delivery
	if group || local {
		d = a.transmit(frame, s)
	}
	port := a.port
	hook := a.hooks.Rx
	if local {
		port, hook = nil, nil
	} else if port == nil && hook == nil && d.n == 0 {
		a.stats.Dropped++
	}
	e.mu.Unlock()
	if port != nil {
		if err := port.WriteFrame(frame); err != nil {
			e.mu.Lock()
			a.stats.Dropped++
			e.mu.Unlock()
		}
	}
	d.run()
	if hook != nil {
		hook(frame) // a clone of the caller's, not used again here
	}
	return nil
}

// Stats returns the station's counters: Tx the data frames it sent, Rx
// those it received, Probes the probe requests it sent, Assocs its
// successful joins, AuthFailures its refused ones, Dropped the frames it
// received without an rx function.
func (s *Station) Stats() Stats {
	s.env.mu.Lock()
	defer s.env.mu.Unlock()
	return s.stats
}

// Close leaves the AP (no lost call; a hosted AP's Leave hook runs) and
// takes the station off the air: later Scans find nothing, Joins answer
// JoinNoNetwork, Send returns ErrClosed. It is safe to call more than
// once.
func (s *Station) Close() {
	e := s.env
	e.mu.Lock()
	a := s.leave()
	s.closed = true
	if i := slices.Index(e.stations, s); i >= 0 {
		e.stations = slices.Delete(e.stations, i, i+1)
	}
	e.mu.Unlock()
	a.flush()
}
