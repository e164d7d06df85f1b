package benchkit

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hostbench"
	nativepkg "github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/internal/wait/poll"
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// FrameSize is the size of the frames the frame-rate figures move.
const FrameSize = 1000

// MaxCPUShare is the plugins' limits.cpu_share in the frame and TCP
// figures: the most the host allows (64 cores), so that the host's CPU
// throttle never holds a driver back and the figures measure the driver
// and the sandbox crossing, not the limit.
const MaxCPUShare = 64

// WiznetNIC is the WIZNET5K driver on an unpaced simulated W5500 whose
// wire goes to a peer port, with a FramePump standing in for the core.
type WiznetNIC struct {
	Host  *host.Host
	NIC   *host.NIC
	Plug  *host.Plugin
	Chip  *w5500.Chip
	SPI   *sim.SPI
	Pump  *hostbench.FramePump
	Calls *nativepkg.Counter // every ABI call, for the native build; nil for WASM
}

// NewWiznetNIC loads the driver of root's plugins/wiznet as WASM on engine
// ("": the host's default), or natively with every ABI call counted,
// brings its link up and returns it.
func NewWiznetNIC(ctx context.Context, root, engine string, native bool, progress func(string)) (*WiznetNIC, error) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	chip := w5500.New(w5500.Options{Strict: true, Unpaced: true})
	chip.Attach(seg.Attach("chip"))
	spi := sim.NewSPI(chip)
	o := host.Options{Logger: discard, Progress: progress, Buses: map[string]any{"spi": spi, "int": chip.INT(), "rst": chip.RST()}}
	o.Engine = engine
	h, err := host.New(o)
	if err != nil {
		chip.Close()
		return nil, err
	}
	n := &WiznetNIC{Host: h, Chip: chip, SPI: spi}
	cfg := config.PluginConfig{Name: "w", Source: sourceOf(root, "plugins", "wiznet"), Class: "WIZNET5K", Buses: map[string]config.BusGrant{
		"spi": {Kind: "spi", Sim: "spi"}, "int": {Kind: "gpio", Sim: "int"}, "rst": {Kind: "gpio", Sim: "rst"}},
		Limits: config.Limits{CPUShare: MaxCPUShare}}
	if native {
		cfg.Name = "n"
		n.Calls = &nativepkg.Counter{}
		n.Plug, err = h.LoadNative(ctx, cfg, nativepkg.CountedExports(driver.New, n.Calls))
	} else {
		n.Plug, _, err = h.Load(ctx, cfg)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	n.NIC = n.Plug.NICs()[0]
	n.Pump = hostbench.NewFramePump(n.NIC, seg.Attach("peer"))
	if err := n.NIC.SetActive(ctx, true); err != nil {
		n.Close()
		return nil, err
	}
	if err := linkUp(ctx, n.NIC); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.Check(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close closes the host and the chip.
func (n *WiznetNIC) Close() {
	n.Host.Close()
	n.Chip.Close()
}

// Check returns an error if the driver misused the chip or the chip
// dropped received frames: a fast driver that breaks the datasheet
// measures nothing.
func (n *WiznetNIC) Check() error {
	if errs := n.Chip.Errors(); len(errs) > 0 {
		return fmt.Errorf("chip misuse: %w", errors.Join(errs...))
	}
	if d := n.Chip.Stats().RxDropped; d > 0 {
		return fmt.Errorf("the chip dropped %d received frames: the window overran its buffer", d)
	}
	return nil
}

// linkUp waits (poll's bound) until isconnected() says true.
func linkUp(ctx context.Context, nic *host.NIC) error {
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { ok, _ := nic.IsConnected(ctx); return ok }) {
		return fmt.Errorf("%s: the link did not come up within %v", nic.Name(), poll.DefaultLimit())
	}
	return nil
}

// RxWindow is how many frames of size bytes the peer keeps in flight
// towards the chip: they fit its 16 KiB RX buffer, so that a measurement
// sees the driver draining it rather than frames the chip drops.
func RxWindow(size int) int { return 12 * 1024 / (size + 2) }

// Traffic is what one measurement moved, and what it took.
type Traffic struct {
	Frames       int
	Elapsed      time.Duration
	Transactions uint64          // SPI transactions (chip-select frames)
	Bytes        uint64          // bytes clocked on the SPI bus
	SPICalls     uint64          // spi_transact host calls (the host's count)
	Polls        uint64          // nic_poll export calls (the host's count)
	CPU          time.Duration   // the process's CPU time: host, driver, simulator and all
	Calls        nativepkg.Calls // every ABI call (native build only)
}

// Add is t and o together.
func (t Traffic) Add(o Traffic) Traffic {
	return Traffic{t.Frames + o.Frames, t.Elapsed + o.Elapsed, t.Transactions + o.Transactions, t.Bytes + o.Bytes,
		t.SPICalls + o.SPICalls, t.Polls + o.Polls, t.CPU + o.CPU, t.Calls.Add(o.Calls)}
}

// Per is v per frame.
func (t Traffic) Per(v uint64) float64 { return float64(v) / float64(t.Frames) }

// Rate is frames per second.
func (t Traffic) Rate() float64 { return float64(t.Frames) / t.Elapsed.Seconds() }

// Measure moves frames of size bytes through the driver, received (dir
// "rx") or sent ("tx"), and returns what it took.
func (n *WiznetNIC) Measure(ctx context.Context, dir string, frames, size int) (Traffic, error) {
	s0, p0 := n.SPI.Stats(), n.Plug.Stats()
	var c0 nativepkg.Calls
	if n.Calls != nil {
		c0 = n.Calls.Snapshot()
	}
	cpu0 := CPUTime()
	var el time.Duration
	var err error
	if dir == "rx" {
		el, err = n.Pump.Rx(ctx, frames, size, RxWindow(size))
	} else {
		el, err = n.Pump.Tx(ctx, frames, size, 256)
	}
	if err != nil {
		return Traffic{}, err
	}
	s1, p1 := n.SPI.Stats(), n.Plug.Stats()
	t := Traffic{Frames: frames, Elapsed: el, Transactions: s1.Transactions - s0.Transactions, Bytes: s1.Bytes - s0.Bytes,
		SPICalls: p1.SPICalls - p0.SPICalls, Polls: p1.Polls - p0.Polls, CPU: CPUTime() - cpu0}
	if n.Calls != nil {
		t.Calls = n.Calls.Snapshot().Sub(c0)
	}
	return t, n.Check()
}

// CPUTime is the CPU time the process has used (user and system).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// WiznetRound is the frames each build moves per turn of CompareFrames.
const WiznetRound = 200

// CompareFrames moves frames in dir through nat and wasm in turns of
// WiznetRound frames until budget has passed, and returns each build's
// traffic.
func CompareFrames(ctx context.Context, nat, wasm *WiznetNIC, dir string, budget time.Duration) (n, w Traffic, err error) {
	start := time.Now()
	for time.Since(start) < budget || n.Frames == 0 {
		tn, err := nat.Measure(ctx, dir, WiznetRound, FrameSize)
		if err != nil {
			return n, w, fmt.Errorf("native: %w", err)
		}
		tw, err := wasm.Measure(ctx, dir, WiznetRound, FrameSize)
		if err != nil {
			return n, w, fmt.Errorf("wasm: %w", err)
		}
		n, w = n.Add(tn), w.Add(tw)
	}
	return n, w, nil
}

// measureWiznet: frames/s WASM against native per engine and direction,
// and per frame the SPI transactions and bytes (WASM on wazero) and host
// calls (counted on the native build).
func measureWiznet(ctx context.Context, e *env, rec *recorder) error {
	nat, err := NewWiznetNIC(ctx, e.Root, "wazero", true, e.Progress)
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	defer nat.Close()
	var avail []string
	for _, en := range e.engines {
		if en.Reason != "" {
			rec.null([]string{"wiznet_wasm_vs_native", en.Name}, unavailable("%s", en.Reason))
		} else {
			avail = append(avail, en.Name)
		}
	}
	for _, engine := range avail {
		err := func() error {
			wasm, err := NewWiznetNIC(ctx, e.Root, engine, false, e.Progress)
			if err != nil {
				return err
			}
			defer wasm.Close()
			for _, dir := range []string{"rx", "tx"} {
				n, w, err := CompareFrames(ctx, nat, wasm, dir, e.budget/time.Duration(2*len(avail)))
				if err != nil {
					return fmt.Errorf("%s: %w", dir, err)
				}
				rec.set([]string{"wiznet_wasm_vs_native", engine, dir}, w.Rate(), n.Rate())
				if engine == "wazero" {
					rec.setValue([]string{"spi_transactions_per_frame", dir}, w.Per(w.Transactions))
					rec.set([]string{"bus_bytes_per_frame", dir}, w.Per(w.Bytes), FrameSize)
					rec.setValue([]string{"host_calls_per_frame", dir}, n.Per(n.Calls.Imports()))
				}
			}
			return nil
		}()
		if err != nil {
			rec.null([]string{"wiznet_wasm_vs_native", engine}, err)
			if engine == "wazero" {
				for _, k := range []string{"spi_transactions_per_frame", "bus_bytes_per_frame", "host_calls_per_frame"} {
					rec.null([]string{k}, err)
				}
			}
		}
	}
	return nil
}

// IsConnectedCalls times n isconnected() calls on nic.
func IsConnectedCalls(ctx context.Context, nic *host.NIC, n int) (time.Duration, error) {
	t0 := time.Now()
	for range n {
		if ok, err := nic.IsConnected(ctx); !ok || err != nil {
			return 0, fmt.Errorf("isconnected() = %v, %v", ok, err)
		}
	}
	return time.Since(t0), nil
}

// measureControl: isconnected() on the W5500 driver, WASM per engine
// against native.
func measureControl(ctx context.Context, e *env, rec *recorder) error {
	nat, err := NewWiznetNIC(ctx, e.Root, "wazero", true, e.Progress)
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	defer nat.Close()
	for _, en := range e.engines {
		if en.Reason != "" {
			rec.null([]string{"control_call_us", en.Name}, unavailable("%s", en.Reason))
			continue
		}
		err := func() error {
			wasm, err := NewWiznetNIC(ctx, e.Root, en.Name, false, e.Progress)
			if err != nil {
				return err
			}
			defer wasm.Close()
			const n = 200
			w, nt, err := Compare(ctx, e.budget, func(native bool) (time.Duration, int, error) {
				nic := wasm.NIC
				if native {
					nic = nat.NIC
				}
				el, err := IsConnectedCalls(ctx, nic, n)
				return el, n, err
			})
			if err != nil {
				return err
			}
			rec.set([]string{"control_call_us", en.Name}, w/1e3, nt/1e3)
			return nil
		}()
		if err != nil {
			rec.null([]string{"control_call_us", en.Name}, err)
		}
	}
	return nil
}
