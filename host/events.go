package host

import (
	"net/netip"
	"sync"
	"time"

	"github.com/nichost/nichost/host/internal/supervise"
)

// Kinds of Event.
const (
	// EventLink: a NIC's link came up or went down. Data: "up" (bool),
	// "type" ("ethernet" or "ip"), "mtu" (int).
	EventLink = "link"
	// EventLease: a NIC's DHCPv4 lease changed. Data: "event" ("bound"
	// for a new address, a renewal of the same one is not sent;
	// "expired"; "refused" when the server sent a NAK; "released" when it
	// was given back; "stopped" when the client stopped without a
	// release), "addr4" ("a.b.c.d/n", or "" once the lease is gone), "gw4"
	// ("" when none).
	EventLease = "lease"
	// EventRestart: a fresh instance is running after a fault or an
	// operator's Restart (Message says which); Generation is the new one.
	EventRestart = "restart"
	// EventFault: the instance of Generation failed and was discarded;
	// Message is the fault.
	EventFault = "fault"
	// EventReload: a new module is running; Generation is its instance's.
	EventReload = "reload"
	// EventStation: a station joined or left a Wi-Fi access point. Data:
	// "event" ("join" or "leave"), "mac" ("aa:bb:cc:dd:ee:ff"),
	// "stations" (int: how many are associated now).
	EventStation = "station"
	// EventConfig: the daemon applied a configuration (reserved for the
	// program embedding the host: Publish).
	EventConfig = "config"
)

// Event is something that happened to the host's plugins or NICs, as
// Subscribe delivers it.
type Event struct {
	Seq        uint64    // 1, 2, ... in the order the host saw them
	Time       time.Time // when
	Kind       string    // EventLink, EventLease, ...
	Plugin     string    // the plugin's name
	NIC        string    // the NIC's name; "" for an event of the whole plugin
	Generation int       // the plugin's instance generation when it happened
	Message    string    // for people; a fault's text
	Data       map[string]any
	// Missed counts the events this subscriber lost, since the one
	// before, because it fell behind by more than its buffer.
	Missed uint64
}

// events fans the host's events out to subscribers.
type events struct {
	mu     sync.Mutex
	seq    uint64
	subs   map[*subscriber]struct{}
	closed bool // the host closed: no more events, subscriptions end
}

type subscriber struct {
	ch     chan Event
	missed uint64
}

// Subscribe returns the events from now on, and the function that ends
// the subscription and closes the channel. Events are never waited for: a
// subscriber that falls behind by more than buffer events (at least 1)
// loses the newest ones, and the next it gets says how many in Missed.
// Close ends every subscription (the channels close); after it, Subscribe
// returns a closed channel.
func (h *Host) Subscribe(buffer int) (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, max(buffer, 1))}
	e := &h.events
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	if e.subs == nil {
		e.subs = map[*subscriber]struct{}{}
	}
	e.subs[s] = struct{}{}
	e.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			e.mu.Lock()
			if _, ok := e.subs[s]; ok { // not already closed by closeAll
				delete(e.subs, s)
				close(s.ch)
			}
			e.mu.Unlock()
		})
	}
}

// Publish sends an event of the embedding program's (EventConfig, say) to
// the subscribers, numbered and timed as the host's own; after Close it
// does nothing.
func (h *Host) Publish(ev Event) { h.emit(ev) }

// closeAll ends every subscription (Host.Close).
func (e *events) closeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for s := range e.subs {
		delete(e.subs, s)
		close(s.ch)
	}
}

func (h *Host) emit(ev Event) {
	e := &h.events
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.seq++
	ev.Seq = e.seq
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	for s := range e.subs {
		out := ev
		out.Missed = s.missed
		select {
		case s.ch <- out:
			s.missed = 0
		default:
			s.missed++
		}
	}
}

// lifecycle turns the supervisor's reports into events.
func (p *Plugin) lifecycle(kind string, gen int, err error) {
	ev := Event{Plugin: p.name, Generation: gen}
	switch kind {
	case supervise.LifeFault:
		ev.Kind, ev.Message = EventFault, err.Error()
	case supervise.LifeRestart:
		ev.Kind, ev.Message = EventRestart, "restarted after a fault"
		if err != nil {
			ev.Message = err.Error()
		}
	case supervise.LifeReload:
		ev.Kind, ev.Message = EventReload, "reloaded from "+p.Config().Source
	default:
		return
	}
	p.h.emit(ev)
}

// linkEvent reports a change of a NIC's link.
func (n *NIC) linkEvent(st LinkState) {
	msg := "link down"
	if st.Up {
		msg = "link up"
	}
	n.p.h.emit(Event{Kind: EventLink, Plugin: n.p.name, NIC: n.name, Generation: n.p.Generation(), Message: msg,
		Data: map[string]any{"up": st.Up, "type": st.Type.String(), "mtu": st.MTU}})
}

// leaseEvent reports a change of a NIC's DHCPv4 lease (the core's
// callback).
func (h *Host) leaseEvent(nic, event string, addr netip.Prefix, gw netip.Addr) {
	n, ok := h.NIC(nic)
	if !ok {
		return
	}
	a, g := "", ""
	if addr.IsValid() {
		a = addr.String()
	}
	if gw.IsValid() {
		g = gw.String()
	}
	h.emit(Event{Kind: EventLease, Plugin: n.p.name, NIC: nic, Generation: n.p.Generation(),
		Message: "DHCPv4 lease " + event, Data: map[string]any{"event": event, "addr4": a, "gw4": g}})
}
