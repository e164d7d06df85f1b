package guesttest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// Options say what the fake host grants the driver and passes to
// nic_start. The zero value grants no bus.
type Options struct {
	// Buses grants buses by the names the driver's description declares.
	// Each value implements the contract of the declared kind: spi.Conn
	// for "spi" (sim.NewSPI around a chip model, a spitrace replay),
	// gpio.PinIO for "gpio" (sim.NewPin), bus.UART for "uart" (an end of
	// sim.NewUARTPair), bus.FramePort for "frame" (a port of a
	// sim.Segment), bus.MDIO for "mdio" (sim.NewMDIO). The test keeps the
	// device's side. A "blob" is a bus.Blob or the blob's bytes as a
	// []byte. Handles are numbered from 1 in the description's order of
	// buses.
	Buses map[string]any
	// MACs are the interfaces' addresses by index, 6 bytes each; an
	// interface without one gets 02:00:00:00:00:<index+1>.
	MACs [][]byte
	// Options are the driver options of the operator's configuration.
	Options map[string]any
	// Hostname and Country are network.hostname() and network.country()
	// ("guesttest" and "XX" when empty); PhyMode is network.phy_mode() (0:
	// never set).
	Hostname, Country string
	PhyMode           int
	// Clock is the host's clock; nil starts a new one at 0. Give a device
	// simulator that needs the time the same Clock (Clock.Time).
	Clock *Clock
	// Deadline bounds the time one call may sleep, as the host's call
	// deadline does (0: 2 s, the host's default): a sleep past it returns
	// -ETIMEDOUT.
	Deadline time.Duration
	// UARTWriteMax is the most bytes one uart_write takes (0: all), to
	// make the short writes a host makes near a call's deadline.
	UARTWriteMax int
	// WithoutFeatures are host features (abi.FeatureTxBatch,
	// abi.FeatureRxBatch, abi.FeatureBlob) left out of the start info, as
	// a host that does not offer them; the start info lists the others of
	// abi.HostFeatures. A driver's call of an import of a feature left out
	// is an ABI violation (a real host would have refused the module).
	WithoutFeatures []string
	// Resume offers the driver a running device in the start info, as a
	// host does on a reload or after a fault (abi.StartInfo.Resume; ABI.md
	// "Warm handover"); nil is a cold start. It is passed only to a
	// driver that declares abi.FeatureResume. Host.Resumed says what the
	// driver did with it.
	Resume *abi.Resume
}

// Host is a fake host running one driver instance. Make it with New (or
// Start); call its methods from the test's goroutine.
type Host struct {
	mod   *guest.Module
	desc  abi.Description
	opts  Options
	clock *Clock
	logf  func(format string, args ...any) // echoes driver logs; may be nil

	wake  time.Duration // requested with wake_at; -1 none
	slept time.Duration // slept in the running call

	// The running (or last) call.
	args    []byte
	reply   []byte
	replied bool
	raised  *abi.Error
	bad     error // an ABI violation seen during the call

	txbuf    []byte // registered with tx_buffer: the guest's, kept for its life
	features []string
	resumed  bool           // nic_start replied True to a resume offer
	calls    map[string]int // host calls by import name
	grants   []*grant
	handles  map[string]uint32
	notified atomic.Uint32 // events announced by bus notifications

	frames  [][][]byte // per interface
	links   [][]LinkState
	reports []map[string]any
	logs    []LogLine
}

// ErrViolation is wrapped by the errors that report a breach of the ABI:
// a result that is not a valid value, -1 without raise, an unknown status
// code. The host would discard the instance.
var ErrViolation = errors.New("ABI violation")

// New starts driver d as the host does: ABI version, description, grants,
// nic_start, and a first poll with abi.EventStart. It fails t if any step
// fails, echoes the driver's log lines with t.Logf, and releases the buses'
// notifications when the test ends.
func New(t testing.TB, d guest.Driver, o Options) *Host {
	t.Helper()
	h, err := start(d, o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// Start is New without a test: it returns the first failure (a raised
// error wraps the *abi.Error, so errors.Is matches abi.ErrValue and its
// kin). It is how a test checks that a driver refuses bad options. The
// caller closes the Host.
func Start(d guest.Driver, o Options) (*Host, error) { return start(d, o, nil) }

func start(d guest.Driver, o Options, logf func(string, ...any)) (*Host, error) {
	h := &Host{opts: o, clock: o.Clock, logf: logf, wake: -1, handles: map[string]uint32{}, calls: map[string]int{}}
	if h.clock == nil {
		h.clock = new(Clock)
	}
	if h.opts.Deadline <= 0 {
		h.opts.Deadline = 2 * time.Second
	}
	h.mod = guest.NewModule(d, (*imports)(h))
	if v := uint32(h.mod.ABIVersion()); v>>16 != abi.VersionMajor || v&0xffff > abi.VersionMinor {
		return nil, fmt.Errorf("guesttest: the driver speaks ABI %s, this host speaks %s", abi.VersionString(v), abi.VersionString(abi.Version))
	}
	if err := h.describe(); err != nil {
		return nil, err
	}
	info, err := h.grant()
	if err != nil {
		h.Close()
		return nil, err
	}
	reply, err := h.run(abi.ExportStart, info, h.mod.Start)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("guesttest: %s: %w", abi.ExportStart, err)
	}
	if err := h.startReply(reply); err != nil {
		h.Close()
		return nil, err
	}
	if h.txbuf == nil {
		h.Close()
		return nil, fmt.Errorf("guesttest: %s did not register a transmit buffer with tx_buffer", abi.ExportStart)
	}
	if err := h.Poll(abi.EventStart); err != nil {
		h.Close()
		return nil, fmt.Errorf("guesttest: first poll: %w", err)
	}
	return h, nil
}

// describe runs nic_describe and checks the description as the host does.
func (h *Host) describe() error {
	b, err := h.run(abi.ExportDescribe, nil, h.mod.Describe)
	if err != nil {
		return fmt.Errorf("guesttest: %s: %w", abi.ExportDescribe, err)
	}
	if err := abi.UnmarshalInto(b, &h.desc); err != nil {
		return fmt.Errorf("guesttest: %s: %w: %v", abi.ExportDescribe, ErrViolation, err)
	}
	if err := h.desc.Validate(); err != nil {
		return fmt.Errorf("guesttest: %s: %w", abi.ExportDescribe, err)
	}
	n := len(h.desc.Interfaces)
	h.frames, h.links, h.reports = make([][][]byte, n), make([][]LinkState, n), make([]map[string]any, n)
	return nil
}

// grant checks Options against the description, opens the grants and
// encodes the start info.
func (h *Host) grant() ([]byte, error) {
	declared := make([]string, len(h.desc.Buses))
	for i, need := range h.desc.Buses {
		declared[i] = need.Name
	}
	for _, name := range abi.SortedKeys(h.opts.Buses) {
		if !slices.Contains(declared, name) {
			return nil, fmt.Errorf("guesttest: Options.Buses grants %q, which the description does not declare (it declares %v)", name, declared)
		}
	}
	for _, need := range h.desc.Buses {
		v, ok := h.opts.Buses[need.Name]
		if !ok {
			if !need.Optional {
				return nil, fmt.Errorf("guesttest: the driver needs bus %q (%s) and Options.Buses does not grant it", need.Name, need.Kind)
			}
			continue
		}
		g, err := newGrant(need, v, h.notify)
		if err != nil {
			return nil, err
		}
		h.grants = append(h.grants, g)
		h.handles[need.Name] = uint32(len(h.grants))
	}
	for _, f := range h.opts.WithoutFeatures {
		if !slices.Contains(abi.HostFeatures(), f) {
			return nil, fmt.Errorf("guesttest: Options.WithoutFeatures names %q, which is not a host feature (they are %v)", f, abi.HostFeatures())
		}
	}
	for _, f := range abi.HostFeatures() {
		if !slices.Contains(h.opts.WithoutFeatures, f) {
			h.features = append(h.features, f)
		}
	}
	info := abi.StartInfo{
		Buses: h.handles, Options: h.opts.Options, PhyMode: h.opts.PhyMode,
		Hostname: cmp.Or(h.opts.Hostname, "guesttest"), Country: cmp.Or(h.opts.Country, "XX"),
		Features: h.features,
	}
	if h.opts.Resume != nil && slices.Contains(h.desc.Features, abi.FeatureResume) {
		info.Resume = h.opts.Resume
	}
	for i, name := range h.desc.Interfaces {
		mac := []byte{0x02, 0, 0, 0, 0, byte(i + 1)}
		if i < len(h.opts.MACs) && h.opts.MACs[i] != nil {
			mac = h.opts.MACs[i]
			if len(mac) != 6 {
				return nil, fmt.Errorf("guesttest: Options.MACs[%d] has %d bytes, not 6", i, len(mac))
			}
		}
		info.Interfaces = append(info.Interfaces, abi.InterfaceInfo{Name: name, MAC: mac})
	}
	b, err := abi.MarshalStruct(info)
	if err != nil {
		return nil, fmt.Errorf("guesttest: start info: %w", err)
	}
	return b, nil
}

// notify records an event announced by a bus, from any goroutine.
func (h *Host) notify(ev abi.Event) { h.notified.Or(uint32(ev)) }

// Close stops listening to the buses' notifications. The buses themselves
// belong to the test. Close is safe to call more than once.
func (h *Host) Close() {
	for _, g := range h.grants {
		g.close()
	}
}

// Description is what the driver declared, as the host checked it.
func (h *Host) Description() abi.Description { return h.desc }

// Handle is the handle of a granted bus, as the start info gave it.
func (h *Host) Handle(bus string) (uint32, bool) {
	v, ok := h.handles[bus]
	return v, ok
}

// HostCalls is how many times the driver called host function name (an
// abi.Import* name such as abi.ImportRxPushBatch) since the Host started.
func (h *Host) HostCalls(name string) int { return h.calls[name] }

// Imports is the host side as the driver's Module sees it, for a test of
// code that makes host calls itself. Its calls are recorded like the
// driver's.
func (h *Host) Imports() abi.Imports { return (*imports)(h) }
