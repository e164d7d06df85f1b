package radio

import (
	"fmt"
	"net"
	"slices"

	"github.com/nichost/nichost/host/bus"
)

// APHooks are the wired side of an AP that has no bus.FramePort: a chip in
// AP mode (AddHostedAP). Each may be nil.
type APHooks struct {
	// Rx gets each frame a station sends that is for the AP's side: unicast
	// to a MAC that is none of the AP's stations, or a group frame (which
	// also goes to the other stations). It runs on the sender's goroutine
	// (its Send), owns frame and must not call Stop or Close of the AP.
	Rx func(frame []byte)
	// Join is told each station that associated.
	Join func(mac net.HardwareAddr)
	// Leave is told each station that is no longer associated: it left
	// (Leave, Close, a join elsewhere), lost the AP (beacon loss after
	// Close) or was deauthenticated (Stop).
	Leave func(mac net.HardwareAddr)
}

// note is one Join or Leave hook call to make.
type note struct {
	join bool
	mac  net.HardwareAddr
}

// AddHostedAP puts an AP on the air as AddAP does, without a port: its
// wired side is h. Frames from its stations for the wired side go to h.Rx,
// Transmit sends frames from that side to the stations, and h.Join and
// h.Leave follow its station list.
//
// The Join and Leave hooks are called with no lock of the package held,
// one at a time and in the order the changes happened (per AP), by the
// goroutine that made the change (Station.Join, Leave, Close, AP.Stop, the
// beacon loss on the clock), once it has released the environment, unless
// another goroutine is already calling that AP's hooks: then that one makes
// the call. A hook may call into the package (but not Stop or Close the AP
// from a lost callback of one of its stations).
func (e *Env) AddHostedAP(c APConfig, h APHooks) (*AP, error) {
	return e.addAP(c, nil, &h)
}

// note queues a Join or Leave hook call, if the AP is hosted and has that
// hook. env.mu is held.
func (a *AP) note(join bool, mac net.HardwareAddr) {
	if !a.hosted || (join && a.hooks.Join == nil) || (!join && a.hooks.Leave == nil) {
		return
	}
	a.notes = append(a.notes, note{join: join, mac: slices.Clone(mac)})
}

// flush makes the queued hook calls, unless another goroutine is making
// them. env.mu is not held. a may be nil.
func (a *AP) flush() {
	if a == nil {
		return
	}
	e := a.env
	e.mu.Lock()
	if a.notifying || len(a.notes) == 0 {
		e.mu.Unlock()
		return
	}
	a.notifying = true
	for len(a.notes) > 0 {
		n := a.notes[0]
		a.notes[0] = note{}
		a.notes = a.notes[1:]
		e.mu.Unlock()
		if n.join {
			a.hooks.Join(n.mac)
		} else {
			a.hooks.Leave(n.mac)
		}
		e.mu.Lock()
	}
	a.notes = nil
	a.notifying = false
	e.mu.Unlock()
}

// Transmit sends an 802.3 frame (14..1514 bytes, no FCS) from the AP's
// wired side over the air: to the associated station it is addressed to,
// or, for a broadcast or multicast frame, to all of them. A unicast frame
// for no station of the AP goes nowhere. The stations' rx functions run
// before Transmit returns, on its goroutine. Transmit returns an error for
// a bad length or a closed (or stopped) AP; a frame sent while the AP is
// off the air is lost without error. It does not retain frame. It works
// on any AP (for an AddAP one it is as if the frame came from its port).
func (a *AP) Transmit(frame []byte) error {
	if err := bus.CheckFrame(frame, MTU); err != nil {
		return fmt.Errorf("radio: Transmit: %w", err)
	}
	e := a.env
	e.mu.Lock()
	if a.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	if !a.on {
		e.mu.Unlock()
		return nil
	}
	d := a.transmit(slices.Clone(frame), nil)
	e.mu.Unlock()
	d.run()
	return nil
}

// SetChannel moves the AP to channel ch (1..14), as after a channel switch
// announcement: its stations stay associated and follow it (their Joined
// BSS shows the new channel); scans and joins find it there. A closed AP
// answers ErrClosed.
func (a *AP) SetChannel(ch int) error {
	if ch < 1 || ch > 14 {
		return fmt.Errorf("radio: SetChannel: channel %d, want 1..14", ch)
	}
	e := a.env
	e.mu.Lock()
	defer e.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	a.cfg.Channel = ch
	return nil
}

// Stop takes the AP off the air for good, deauthenticating its stations
// now: each is disassociated at once, and its lost function is called (with
// LossDeauth) before Stop returns, on Stop's goroutine, not after
// BeaconLoss; a hosted AP's Leave hook is told each. Otherwise Stop is
// Close: the AP stops reading its port and leaves the environment. On an
// AP already closed whose stations have not yet noticed (within
// BeaconLoss), Stop deauthenticates them now. It is safe to call more than
// once, and after Close. Do not call it from an rx or lost function of one
// of its stations, nor from its own hooks.
func (a *AP) Stop() {
	e := a.env
	e.mu.Lock()
	wasClosed := a.closed
	if !wasClosed {
		a.shut()
	}
	a.on = false
	a.offGen++ // a pending beacon loss does nothing
	if a.lossStop != nil {
		a.lossStop()
		a.lossStop = nil
	}
	lost := a.dropStations()
	bssid := slices.Clone(a.cfg.BSSID)
	e.mu.Unlock()
	for _, f := range lost {
		f(slices.Clone(bssid), LossDeauth)
	}
	a.flush()
	if !wasClosed && a.port != nil {
		a.port.Notify(nil)
	}
	a.rwg.Wait()
}

// StationRSSI returns the level at which the AP hears the associated
// station mac, in dBm, and true; false if mac is not associated. It is
// the station's SetRSSI level if one was set, else (symmetric) the level
// the station hears the AP at now (RSSI, with drift).
func (a *AP) StationRSSI(mac net.HardwareAddr) (int, bool) {
	e := a.env
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range a.stations {
		if slices.Equal(s.mac, mac) {
			if s.leveled {
				return s.level, true
			}
			return a.rssi, true
		}
	}
	return 0, false
}

// SetRSSI sets the level (dBm, clamped to -100..0) at which APs hear the
// station (AP.StationRSSI). Until it is called an AP hears a station at
// the level the station hears the AP. It does not change what the station
// hears (RSSI).
func (s *Station) SetRSSI(dbm int) {
	s.env.mu.Lock()
	defer s.env.mu.Unlock()
	s.level, s.leveled = min(max(dbm, -100), 0), true
}
