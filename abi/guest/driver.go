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
//
// These are the methods every class has. A driver whose class has more
// implements the optional interfaces too, which the SDK finds with a type
// assertion: Connector (connect, disconnect), Scanner (scan) and Caller
// (class-specific methods). For a driver that lacks one, the SDK answers
// the host with a NotImplementedError naming the method and the class
// Describe returned.
type Driver interface {
	// Describe declares the driver: class, interfaces, buses needed. It is
	// called before Start and must not use the Env.
	Describe() abi.Description
	// Start is called once per instance, after the host checked the grants.
	// The Env stays valid for the instance's life.
	Start(env *Env) error

	// Active answers active().
	Active(iface int) bool
	// SetActive answers active(up): it starts bringing the interface up
	// or takes it down, and returns without waiting for the device.
	SetActive(iface int, up bool) error
	// IsConnected answers isconnected().
	IsConnected(iface int) bool
	// Status answers status() when param is "" and status(param) otherwise.
	Status(iface int, param string) (any, error)
	// ConfigGet answers config(name).
	ConfigGet(iface int, name string) (any, error)
	// ConfigSet applies config(k=v, ...). It should check every key before
	// applying any, so that a bad call changes nothing. kv is the call's
	// own: the driver may keep it.
	ConfigSet(iface int, kv map[string]any) error

	// Poll advances the driver's state machines. events holds the
	// bits saying why the host polls; treat them as hints.
	Poll(events abi.Event) error
	// Transmit sends one frame on iface. frame is only valid during the
	// call. Return ErrBusy to have the host keep the frame and offer it again
	// after the next Poll.
	Transmit(iface int, frame []byte) error
}

// Connector is implemented by drivers whose class joins a network (WLAN,
// PPP). Without it, connect() and disconnect() raise NotImplementedError
// ("connect() is not supported by LAN").
type Connector interface {
	// Connect starts joining with the class's arguments and returns; Poll
	// finishes the work and IsConnected reports it.
	Connect(iface int, args Args) error
	// Disconnect leaves the network. The SDK has already checked that the
	// call has no arguments.
	Disconnect(iface int) error
}

// Scanner is implemented by drivers whose class can list the networks in
// reach (WLAN). Without it, scan() raises NotImplementedError.
type Scanner interface {
	// Scan returns a list of tuples in the class's format; nil is an
	// empty list.
	Scan(iface int, args Args) ([]any, error)
}

// Caller is implemented by drivers with class-specific methods: regs(),
// PPP's poll(), the WLANWiPy profile, and phy_mode or country when the
// description declares those features. Without it, every such call raises
// NotImplementedError ("LAN has no method regs()").
type Caller interface {
	// Call runs method name. For a name it does not know it returns
	// NoMethod's NotImplementedError.
	Call(iface int, name string, args Args) (any, error)
}

// BatchTransmitter is implemented by drivers that send several frames in
// one call (a W5500 driver writes them into its TX buffer and issues one
// SEND per frame without reading status in between). The host offers up to
// abi.MaxTxBatch frames at once when it queued several. Without it, the SDK
// serves a batch with one Transmit per frame, stopping at the first error.
type BatchTransmitter interface {
	// TransmitBatch sends frames on iface in order and returns how many it
	// took. n < len(frames) with a nil error or ErrBusy: the device is busy
	// (frames[n:] wait; with n == 0 the host offers them again after the
	// next Poll). A non-nil error other than ErrBusy refuses frames[n] (the
	// host drops and counts it; with n > 0 the host first offers frames[n:]
	// again, and the driver refuses frames[n] again as the first). The
	// frames are only valid during the call.
	TransmitBatch(iface int, frames [][]byte) (int, error)
}

// Resumer is implemented by drivers that can hand their running device to
// the next instance and adopt one the previous instance left running (the
// warm handover of ABI.md): a reload then swaps the code without touching
// the device, the link stays up and no frame is lost. The SDK declares the
// "resume" feature in the description of a driver that implements it.
// Without it, every start is cold, as in ABI 1.0.
type Resumer interface {
	// Suspend is nic_suspend: the instance is about to be replaced. The
	// driver finishes or records what is under way (a frame it took and
	// has not sent is sent now or recorded in the state: a frame taken is
	// never dropped) and returns its state for the next instance, at most
	// abi.MaxResumeState bytes (nil: none). No call reaches the instance
	// afterwards. An error declines: the host starts the next instance
	// cold.
	Suspend() ([]byte, error)
	// Resume is called right after Start when the host offers the running
	// device: r.Reason says why it still runs (abi.ResumeReload,
	// abi.ResumeFault) and r.State is what the previous instance's Suspend
	// returned (nil after a fault, or from a driver without Resumer). The
	// driver reads the device and takes it over, returning nil, if the
	// device is as the state says (after a fault: in a state it can take
	// over); it never trusts the state alone. An error says why it cannot
	// (the state of another version, a device that does not match): the
	// SDK logs it and the instance starts cold, so Resume must leave the
	// driver as Start did when it fails.
	Resume(r abi.Resume) error
}

// ErrBusy is returned by Transmit when the device has no room for the frame
// now.
var ErrBusy = errors.New("guest: transmitter busy")

// NoMethod is the NotImplementedError for a class-specific method a driver
// does not have: "LAN has no method regs()". The SDK raises it for every
// call to a driver without a Caller; a Caller returns it for names it does
// not know.
func NoMethod(class, method string) error {
	return abi.Unsupported("%s has no method %s()", class, method)
}
