package guest

import (
	"errors"

	"github.com/nichost/nichost/abi"
)

// Driver is what a plugin implements: one value per plugin instance, serving
// every interface the description declares (iface is the index into
// Description.Interfaces). The host serialises all calls into one instance,
// so a Driver needs no locking. Methods must not block: anything slow is
// started here and finished in Poll.
type Driver interface {
	// Describe declares the driver: class, interfaces, buses needed. It is
	// called before Start and must not use the Env.
	Describe() abi.Description
	// Start is called once per instance, after the host checked the grants.
	// The Env stays valid for the instance's life.
	Start(env *Env) error

	Active(iface int) bool
	SetActive(iface int, up bool) error
	Connect(iface int, args Args) error
	Disconnect(iface int) error
	IsConnected(iface int) bool
	// Scan returns a list of tuples in the class's format.
	Scan(iface int, args Args) ([]any, error)
	// Status answers status() when param is "" and status(param) otherwise.
	Status(iface int, param string) (any, error)
	// ConfigGet answers config(name).
	ConfigGet(iface int, name string) (any, error)
	// ConfigSet applies config(k=v, ...). It should check every key before
	// applying any, so that a bad call changes nothing.
	ConfigSet(iface int, kv map[string]any) error
	// Call runs a class-specific method such as regs() or poll().
	Call(iface int, name string, args Args) (any, error)

	// Poll advances the driver's state machines. events holds the
	// bits saying why the host polls.
	Poll(events abi.Event) error
	// Transmit sends one frame on iface. frame is only valid during the
	// call. Return ErrBusy to have the host keep the frame and offer it again
	// after the next Poll.
	Transmit(iface int, frame []byte) error
}

// ErrBusy is returned by Transmit when the device has no room for the frame
// now.
var ErrBusy = errors.New("guest: transmitter busy")

// Args are the positional and keyword arguments of a method call.
type Args struct {
	Pos []any
	KW  map[string]any
}

// Len is the number of arguments of both kinds.
func (a Args) Len() int { return len(a.Pos) + len(a.KW) }

// AlwaysConnected supplies Connect, Disconnect and Scan for classes that have
// none (WIZNET5K, LAN): each returns a NotImplementedError naming the class.
// Embed it and set Class.
type AlwaysConnected struct{ Class string }

// Connect is not supported by always-connected interfaces.
func (a AlwaysConnected) Connect(int, Args) error {
	return abi.Unsupported("connect() is not supported by %s", a.Class)
}

// Disconnect is not supported by always-connected interfaces.
func (a AlwaysConnected) Disconnect(int) error {
	return abi.Unsupported("disconnect() is not supported by %s", a.Class)
}

// Scan is not supported by always-connected interfaces.
func (a AlwaysConnected) Scan(int, Args) ([]any, error) {
	return nil, abi.Unsupported("scan() is not supported by %s", a.Class)
}
