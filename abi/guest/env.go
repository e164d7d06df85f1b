package guest

import (
	"fmt"
	"slices"
	"time"

	"github.com/nichost/nichost/abi"
)

// Env is the driver's view of the host for one instance: the buses it was
// granted, its interfaces' identities, time, and the way to the network core.
type Env struct {
	imp  abi.Imports
	info abi.StartInfo
	rx   []rxBatch // per interface; nil when the host lacks rx_batch
}

func newEnv(imp abi.Imports, info abi.StartInfo) *Env {
	e := &Env{imp: imp, info: info}
	if slices.Contains(info.Features, abi.FeatureRxBatch) {
		e.rx = make([]rxBatch, len(info.Interfaces))
	}
	return e
}

// Info is what the host passed to nic_start.
func (e *Env) Info() abi.StartInfo { return e.info }

// MAC is the address the host assigned to interface iface.
func (e *Env) MAC(iface int) []byte {
	if iface < 0 || iface >= len(e.info.Interfaces) {
		return nil
	}
	return append([]byte(nil), e.info.Interfaces[iface].MAC...)
}

// Option returns a driver option from the operator's config.
func (e *Env) Option(name string) (any, bool) {
	v, ok := e.info.Options[name]
	return v, ok
}

// Granted reports whether the operator granted the named bus.
func (e *Env) Granted(name string) bool {
	_, ok := e.info.Buses[name]
	return ok
}

func (e *Env) handle(name string) (uint32, error) {
	h, ok := e.info.Buses[name]
	if !ok {
		return 0, abi.OSError(abi.EBADF, "bus %q was not granted", name)
	}
	return h, nil
}

// SPI returns the granted SPI device of that name.
func (e *Env) SPI(name string) (SPI, error) {
	h, err := e.handle(name)
	return SPI{h: h, imp: e.imp}, err
}

// GPIO returns the granted GPIO line of that name.
func (e *Env) GPIO(name string) (GPIO, error) {
	h, err := e.handle(name)
	return GPIO{h: h, imp: e.imp}, err
}

// UART returns the granted serial port of that name.
func (e *Env) UART(name string) (UART, error) {
	h, err := e.handle(name)
	return UART{h: h, imp: e.imp}, err
}

// FramePort returns the granted Ethernet frame port of that name.
func (e *Env) FramePort(name string) (FramePort, error) {
	h, err := e.handle(name)
	return FramePort{h: h, imp: e.imp}, err
}

// MDIO returns the granted MDIO bus of that name.
func (e *Env) MDIO(name string) (MDIO, error) {
	h, err := e.handle(name)
	return MDIO{h: h, imp: e.imp}, err
}

// Blob returns the granted blob of that name (since ABI 1.1: the host
// lists abi.FeatureBlob).
func (e *Env) Blob(name string) (Blob, error) {
	h, err := e.handle(name)
	return Blob{h: h, imp: e.imp}, err
}

// Now is the host's monotonic clock.
func (e *Env) Now() time.Duration { return time.Duration(e.imp.Now()) }

// Sleep waits for a short time (at most abi.MaxSleepNanos; longer waits
// belong in Poll with WakeAfter). It counts against the call's deadline.
func (e *Env) Sleep(d time.Duration) error {
	return check("sleep", e.imp.Sleep(int64(d)))
}

// WakeAfter asks the host to poll again after d (replacing any earlier
// request). A negative d cancels the request.
func (e *Env) WakeAfter(d time.Duration) {
	if d < 0 {
		e.imp.WakeAt(-1)
		return
	}
	e.imp.WakeAt(e.imp.Now() + int64(d))
}

// SetLink tells the core the link state of iface: up or down, its type
// (abi.LinkEthernet or abi.LinkIP) and MTU (0 keeps the default).
func (e *Env) SetLink(iface int, up bool, kind abi.LinkType, mtu int) error {
	u := int32(0)
	if up {
		u = 1
	}
	return check("link", e.imp.Link(int32(iface), u, int32(kind), int32(mtu)))
}

// Report tells the core what the driver negotiated (PPP: "addr4",
// "peer4", "dns"), as ABI.md lists.
func (e *Env) Report(iface int, m map[string]any) error {
	b, err := encodeValue(m)
	if err != nil {
		return err
	}
	return check("report", e.imp.Report(int32(iface), b))
}

// Logf writes a line to the host's log, tagged with the plugin's name.
func (e *Env) Logf(level int, format string, a ...any) {
	e.imp.Log(int32(level), []byte(fmt.Sprintf(format, a...)))
}

func check(call string, rc int32) error {
	if rc < 0 {
		return errnoError(call, rc)
	}
	return nil
}
