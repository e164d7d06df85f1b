package radio

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus"
)

// BeaconLoss is how long after an AP vanishes a station associated with it
// notices (a station notices a vanished AP after this).
const BeaconLoss = 300 * time.Millisecond

// MTU is the largest payload of a data frame; frames are 14..MTU+14 bytes.
const MTU = bus.DefaultMTU

// Errors of the package.
var (
	ErrClosed    = errors.New("radio: closed")
	ErrNotJoined = errors.New("radio: station not joined")
)

// Loss is why a station lost the AP it had joined, as the lost function
// given to NewStationLoss learns it.
type Loss int

// The reasons of a loss.
const (
	// LossBeacon: the AP vanished (SetOn(false) or Close); the station
	// noticed after BeaconLoss, as a missed-beacons timeout.
	LossBeacon Loss = iota
	// LossDeauth: the AP deauthenticated the station (Stop), at once.
	LossDeauth
)

// String returns the reason's name.
func (l Loss) String() string {
	switch l {
	case LossBeacon:
		return "beacon loss"
	case LossDeauth:
		return "deauthenticated"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// Options configure an Env.
type Options struct {
	Clock Clock // nil: Wall()
	Seed  int64 // for RSSI drift
}

// Env is the air: the access points on it and the stations that hear them.
// It is safe for concurrent use.
type Env struct {
	clock Clock
	seed  int64

	mu       sync.Mutex // guards everything below and the state of its APs and stations
	aps      []*AP
	stations []*Station
	stats    Stats
	closed   bool
}

// New makes an empty environment.
func New(o Options) *Env {
	if o.Clock == nil {
		o.Clock = Wall()
	}
	return &Env{clock: o.Clock, seed: o.Seed}
}

// Clock returns the environment's clock.
func (e *Env) Clock() Clock { return e.clock }

// Stats returns what crossed the air: TxFrames/TxBytes are the data
// frames transmitted (a group frame once), RxFrames/RxBytes the receptions
// of them by APs and associated stations, Probes the probe requests sent,
// Assocs the successful joins and AuthFailures the refused ones (wrong key
// or security mismatch).
func (e *Env) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// APs returns the APs of the environment that have not been closed, in
// the order they were added.
func (e *Env) APs() []*AP {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.aps)
}

// Close closes every AP and station of the environment (no lost callback
// fires for them; a hosted AP's Leave hook does, for each station) and
// waits for the APs' port readers to stop. Later AddAP
// calls fail and NewStation returns closed stations. It is safe to call
// more than once.
func (e *Env) Close() {
	e.mu.Lock()
	e.closed = true
	aps := slices.Clone(e.aps)
	sts := slices.Clone(e.stations)
	e.mu.Unlock()
	for _, s := range sts {
		s.Close()
	}
	for _, a := range aps {
		a.Close()
	}
}

// APConfig describes an access point.
type APConfig struct {
	SSID       string           // 1..32 bytes
	BSSID      net.HardwareAddr // 6 bytes, unicast
	Channel    int              // 1..14
	RSSI       int              // dBm as a station hears it, -100..0
	Security   Security
	Hidden     bool   // beacons carry an empty SSID; answers only directed probes
	Passphrase string // WPA kinds and WPA3: 8..63 printable ASCII; WEP: 5 or 13 chars; open: ""
}

// Validate checks c; an error names the field.
func (c APConfig) Validate() error {
	if n := len(c.SSID); n < 1 || n > 32 {
		return fmt.Errorf("radio: APConfig.SSID: %d bytes, want 1..32", n)
	}
	if len(c.BSSID) != 6 {
		return fmt.Errorf("radio: APConfig.BSSID: %d bytes, want 6", len(c.BSSID))
	}
	if c.BSSID[0]&1 != 0 {
		return fmt.Errorf("radio: APConfig.BSSID: %v is a group address, want unicast", c.BSSID)
	}
	if bytes.Equal(c.BSSID, make([]byte, 6)) {
		return fmt.Errorf("radio: APConfig.BSSID: all zero")
	}
	if c.Channel < 1 || c.Channel > 14 {
		return fmt.Errorf("radio: APConfig.Channel: %d, want 1..14", c.Channel)
	}
	if c.RSSI < -100 || c.RSSI > 0 {
		return fmt.Errorf("radio: APConfig.RSSI: %d dBm, want -100..0", c.RSSI)
	}
	if !c.Security.Valid() {
		return fmt.Errorf("radio: APConfig.Security: unknown value %d", int(c.Security))
	}
	p := c.Passphrase
	switch {
	case c.Security == SecOpen:
		if p != "" {
			return fmt.Errorf("radio: APConfig.Passphrase: must be empty for an open AP")
		}
	case c.Security == SecWEP:
		if len(p) != 5 && len(p) != 13 {
			return fmt.Errorf("radio: APConfig.Passphrase: %d chars, want 5 or 13 for WEP", len(p))
		}
	default:
		if len(p) < 8 || len(p) > 63 {
			return fmt.Errorf("radio: APConfig.Passphrase: %d chars, want 8..63 for %v", len(p), c.Security)
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] > 0x7e {
				return fmt.Errorf("radio: APConfig.Passphrase: byte %d (%#x) is not printable ASCII", i, p[i])
			}
		}
	}
	return nil
}

// clone returns c with its own BSSID.
func (c APConfig) clone() APConfig {
	c.BSSID = slices.Clone(c.BSSID)
	return c
}

// Stats are the counters of an AP, a station or the whole air. For an AP
// or a station, Tx and Rx are from that end's point of view.
type Stats struct {
	TxFrames, RxFrames           uint64 // data frames over the air: sent by this end, received by it
	TxBytes, RxBytes             uint64
	Probes, Assocs, AuthFailures uint64
	// Dropped counts, on an AP, frames from stations that went nowhere
	// (no wired port and no station for them) or whose WriteFrame to the
	// port failed; on a station, frames it received without an rx
	// function. Env.Stats leaves it 0.
	Dropped uint64
}

// BSS is an AP as a scan or join sees it.
type BSS struct {
	SSID     string // "" for a hidden AP unless the scan probed for its SSID
	BSSID    net.HardwareAddr
	Channel  int
	RSSI     int
	Security Security
	Hidden   bool
}

// AP is an access point: a radio cell and a bridge to its wired port, or
// (AddHostedAP) to the hooks of a chip in AP mode.
type AP struct {
	env    *Env
	port   bus.FramePort
	hosted bool
	hooks  APHooks

	// guarded by env.mu
	cfg      APConfig
	base     int // the set RSSI
	rssi     int // the current one (base with drift)
	on       bool
	closed   bool
	stations []*Station
	stats    Stats
	pmk      []byte // for WPA-PSK and WPA2-PSK; fixed after AddAP
	offGen   uint64 // counts SetOn(false)/SetOn(true) transitions
	lossStop func() bool
	drift    struct {
		dB     int
		period time.Duration
		gen    uint64
		stop   func() bool
		rng    *rand.Rand
	}

	notes     []note // Join/Leave hook calls to make, in order
	notifying bool   // a goroutine is making them (flush)

	wake chan struct{} // port has frames
	done chan struct{} // closed by Close: reader stops
	rwg  sync.WaitGroup
}

// AddAP puts an AP on the air; its wired side is port (frames stations send
// go out there; frames from port addressed to an associated station, or
// broadcast/multicast, go to the stations). port may be nil (no LAN).
// A bad config is an error naming the field; so is a BSSID another AP of
// the environment has.
//
// The AP reads port on a goroutine of its own, which calls the stations'
// rx functions. The AP does not own port: Close stops reading it but does
// not close it.
func (e *Env) AddAP(c APConfig, port bus.FramePort) (*AP, error) {
	return e.addAP(c, port, nil)
}

// addAP is AddAP, or AddHostedAP with hooks.
func (e *Env) addAP(c APConfig, port bus.FramePort, hooks *APHooks) (*AP, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.clone()
	h := fnv.New64a()
	h.Write(c.BSSID)
	a := &AP{env: e, port: port, cfg: c, base: c.RSSI, rssi: c.RSSI, on: true,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if hooks != nil {
		a.hosted, a.hooks = true, *hooks
	}
	a.drift.rng = rand.New(rand.NewPCG(uint64(e.seed), h.Sum64()))
	if c.Security.methods()&(mWPA|mWPA2) != 0 {
		a.pmk = PMK(c.Passphrase, c.SSID)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	for _, o := range e.aps {
		if bytes.Equal(o.cfg.BSSID, c.BSSID) {
			e.mu.Unlock()
			return nil, fmt.Errorf("radio: APConfig.BSSID: %v is already on the air", c.BSSID)
		}
	}
	e.aps = append(e.aps, a)
	e.mu.Unlock()
	if port != nil {
		a.rwg.Add(1)
		port.Notify(a.notify)
		go a.read()
	}
	return a, nil
}

// notify is the port's Notify function.
func (a *AP) notify() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// read forwards the frames of the port to the stations until Close.
func (a *AP) read() {
	defer a.rwg.Done()
	buf := make([]byte, max(a.port.MTU(), MTU)+bus.EthernetHeaderLen)
	for {
		for {
			n, err := a.port.ReadFrame(buf)
			if errors.Is(err, bus.ErrClosed) {
				break // the owner closed it: wait for Close
			}
			if err != nil {
				continue // too long: dropped by the port
			}
			if n == 0 {
				break
			}
			a.fromLAN(buf[:n])
		}
		select {
		case <-a.wake:
		case <-a.done:
			return
		}
	}
}

// fromLAN transmits a frame of the wired side to the stations it is for.
func (a *AP) fromLAN(frame []byte) {
	if len(frame) < bus.EthernetHeaderLen || len(frame) > MTU+bus.EthernetHeaderLen {
		return
	}
	e := a.env
	e.mu.Lock()
	if !a.on || a.closed {
		e.mu.Unlock()
		return
	}
	d := a.transmit(frame, nil)
	e.mu.Unlock()
	d.run()
}

// delivery is rx calls to make with no lock held.
type delivery struct {
	rx    []func([]byte)
	frame []byte
	n     int // stations that received the frame (with an rx function or not)
}

func (d delivery) run() {
	for _, rx := range d.rx {
		rx(slices.Clone(d.frame))
	}
}

// transmit sends frame from the AP over the air to the associated
// stations it is for (all but except for a group frame), counting it.
// It is called with env.mu held.
func (a *AP) transmit(frame []byte, except *Station) delivery {
	e := a.env
	var d delivery
	group := frame[0]&1 != 0
	var to []*Station
	for _, s := range a.stations {
		if s == except {
			continue
		}
		if group || bytes.Equal(frame[:6], s.mac) {
			to = append(to, s)
		}
	}
	if len(to) == 0 {
		return d
	}
	d.n = len(to)
	n := uint64(len(frame))
	a.stats.TxFrames++
	a.stats.TxBytes += n
	e.stats.TxFrames++
	e.stats.TxBytes += n
	for _, s := range to {
		s.stats.RxFrames++
		s.stats.RxBytes += n
		e.stats.RxFrames++
		e.stats.RxBytes += n
		if s.rx == nil {
			s.stats.Dropped++
			continue
		}
		d.rx = append(d.rx, s.rx)
	}
	d.frame = frame
	return d
}

// Config returns the AP's configuration (RSSI as set, without drift).
func (a *AP) Config() APConfig {
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	c := a.cfg.clone()
	c.RSSI = a.base
	return c
}

// SetRSSI sets the level stations hear, clamped to -100..0. With drift the
// level then wanders around the new value.
func (a *AP) SetRSSI(dbm int) {
	dbm = min(max(dbm, -100), 0)
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	a.base, a.rssi = dbm, dbm
}

// RSSI returns the level stations hear now (with drift).
func (a *AP) RSSI() int {
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	return a.rssi
}

// Drift makes the RSSI wander by up to ±dB around its set value, one step
// per period on the env's clock (0 stops it).
//
// Each step moves the level by -1, 0 or +1 dB at random, staying within
// ±dB of the set value and within -100..0. The steps come from a generator
// seeded by Options.Seed and the BSSID, so with a Manual clock the same
// seed gives the same levels. Stopping puts the level back to the set
// value.
func (a *AP) Drift(dB int, period time.Duration) {
	e := a.env
	e.mu.Lock()
	defer e.mu.Unlock()
	a.stopDrift()
	if dB <= 0 || period <= 0 || a.closed {
		return
	}
	a.drift.dB, a.drift.period = dB, period
	a.scheduleDrift()
}

// stopDrift stops the drift and restores the set level. env.mu is held.
func (a *AP) stopDrift() {
	a.drift.gen++
	if a.drift.stop != nil {
		a.drift.stop()
		a.drift.stop = nil
	}
	a.drift.dB, a.drift.period = 0, 0
	a.rssi = a.base
}

// scheduleDrift schedules the next step. env.mu is held.
func (a *AP) scheduleDrift() {
	gen := a.drift.gen
	a.drift.stop = a.env.clock.AfterFunc(a.drift.period, func() { a.driftStep(gen) })
}

func (a *AP) driftStep(gen uint64) {
	e := a.env
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen != a.drift.gen || a.closed {
		return
	}
	r := a.rssi + a.drift.rng.IntN(3) - 1
	lo, hi := max(a.base-a.drift.dB, -100), min(a.base+a.drift.dB, 0)
	a.rssi = min(max(r, lo), hi)
	a.scheduleDrift()
}

// SetOn takes the AP off the air (false: it vanishes: associated stations
// lose it after BeaconLoss) or back on (true).
//
// While off, scans and joins do not find it and it neither forwards frames
// nor receives them. Back on before BeaconLoss has passed, its stations
// stay associated; after it, they have been told (lost) and must join
// again. SetOn does nothing on a closed AP.
func (a *AP) SetOn(on bool) {
	e := a.env
	e.mu.Lock()
	defer e.mu.Unlock()
	if a.closed || a.on == on {
		return
	}
	a.on = on
	a.offGen++
	if a.lossStop != nil {
		a.lossStop()
		a.lossStop = nil
	}
	if !on {
		a.scheduleLoss()
	}
}

// scheduleLoss arms the beacon loss of the AP's stations. env.mu is held.
func (a *AP) scheduleLoss() {
	gen := a.offGen
	a.lossStop = a.env.clock.AfterFunc(BeaconLoss, func() { a.beaconLoss(gen) })
}

// beaconLoss disassociates the stations of the AP gone off and tells them.
func (a *AP) beaconLoss(gen uint64) {
	e := a.env
	e.mu.Lock()
	if gen != a.offGen || a.on || e.closed {
		e.mu.Unlock()
		return
	}
	a.lossStop = nil
	lost := a.dropStations()
	bssid := a.cfg.BSSID
	e.mu.Unlock()
	for _, f := range lost {
		go f(slices.Clone(bssid), LossBeacon)
	}
	a.flush()
}

// dropStations disassociates every station of the AP (noting the Leave
// hook calls) and returns their lost functions. env.mu is held.
func (a *AP) dropStations() []func(net.HardwareAddr, Loss) {
	var lost []func(net.HardwareAddr, Loss)
	for _, s := range a.stations {
		s.ap, s.ssid = nil, ""
		if s.lost != nil {
			lost = append(lost, s.lost)
		}
		a.note(false, s.mac)
	}
	a.stations = nil
	return lost
}

// On reports whether the AP is on the air.
func (a *AP) On() bool {
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	return a.on
}

// Stations returns the MAC addresses of the associated stations, in the
// order they joined.
func (a *AP) Stations() []net.HardwareAddr {
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	l := make([]net.HardwareAddr, len(a.stations))
	for i, s := range a.stations {
		l[i] = slices.Clone(s.mac)
	}
	return l
}

// Stats returns the AP's counters: Tx the data frames it sent to stations
// (a group frame once), Rx those it received from them, Probes the probe
// requests it heard, Assocs the joins it accepted, AuthFailures those it
// refused (wrong key or security mismatch), Dropped the frames from
// stations it had nowhere to send.
func (a *AP) Stats() Stats {
	a.env.mu.Lock()
	defer a.env.mu.Unlock()
	return a.stats
}

// Close takes the AP off the air for good: its stations lose it after
// BeaconLoss as with SetOn(false), it stops reading its port (Close waits
// for the reader; do not call it from an rx function) and it leaves the
// environment. It is safe to call more than once.
func (a *AP) Close() {
	e := a.env
	e.mu.Lock()
	if a.closed {
		e.mu.Unlock()
		a.rwg.Wait()
		return
	}
	a.shut()
	if a.on {
		a.on = false
		a.offGen++
		if a.lossStop != nil {
			a.lossStop()
		}
		a.scheduleLoss()
	}
	if e.closed && a.lossStop != nil {
		a.lossStop()
		a.lossStop = nil
	}
	e.mu.Unlock()
	if a.port != nil {
		a.port.Notify(nil)
	}
	a.rwg.Wait()
}

// shut is what Close and Stop share: the AP is closed, stops drifting and
// reading its port, and leaves the environment. env.mu is held.
func (a *AP) shut() {
	e := a.env
	a.stopDrift()
	a.closed = true
	if i := slices.Index(e.aps, a); i >= 0 {
		e.aps = slices.Delete(e.aps, i, i+1)
	}
	close(a.done)
}

// bss returns the AP as a station hears it, with ssid. env.mu is held.
func (a *AP) bss(ssid string) BSS {
	return BSS{SSID: ssid, BSSID: slices.Clone(a.cfg.BSSID), Channel: a.cfg.Channel,
		RSSI: a.rssi, Security: a.cfg.Security, Hidden: a.cfg.Hidden}
}
