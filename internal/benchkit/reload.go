package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait/poll"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
	"github.com/nichost/nichost/simnet"
)

// A hot reload and a restart after a trap, measured from outside: a TCP
// stream both ways between a nichost socket and the simulated LAN's
// router, through the LAN driver on its lan8720 simulator or the W5500
// driver on its simulator, while the plugin is reloaded (alternating two
// builds of the same driver) or made to trap. Nothing here needs root.

// ReloadRig is the simulated LAN, a host running one driver plugin on one
// simulated device, the two builds it alternates, and a mirror port that
// sees every frame on the wire.
type ReloadRig struct {
	Model    string // "lan" or "w5500"
	Router   *simnet.Router
	Host     *host.Host
	Plugin   *host.Plugin
	NIC      *host.NIC
	NoFaults bool // the SDK has no fault injection: Trap is refused

	builds  [2]string // two .wasm files of the driver, differing in one custom section
	next    int       // the build the next reload loads
	port    int       // streams started so far
	devPort *sim.FramePort
	drops   func() uint64 // frames the device dropped (port queue, chip buffer)
	mirror  *wireMirror
	logs    *lockedBuffer
	closers []func()
}

// ErrNoFaults is Trap's error when the driver's SDK has no fault injection.
var ErrNoFaults = errors.New("the Go SDK has no fault injection")

// NewReloadRig loads model's driver from root ("lan": plugins/lan on a
// LAN8720A whose auto-negotiation takes 300 ms, as the demo's; "w5500":
// plugins/wiznet with its interrupt line) on engine ("": the host's
// default) with fault injection on, brings it up and waits for its DHCP
// lease. tmp holds the two builds.
func NewReloadRig(ctx context.Context, root, model, engine, tmp string, progress func(string)) (_ *ReloadRig, err error) {
	router, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		return nil, err
	}
	r := &ReloadRig{Model: model, Router: router, logs: &lockedBuffer{}}
	r.closers = append(r.closers, router.Close)
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	var dev *simnet.Device
	var dir string
	switch model {
	case "lan":
		dev = landev.New(router, "dut", 300*time.Millisecond)
		port := dev.Sims["dut-port"].(*sim.FramePort)
		r.drops = func() uint64 { return port.Stats().Dropped }
		r.devPort = port
		dir = sourceOf(root, "plugins", "lan")
	case "w5500":
		port := router.Attach("dut")
		d := wdev.New(port, "dut", true)
		dev = d.Device
		chip := d.Chip
		r.drops = func() uint64 { return port.Stats().Dropped + chip.Stats().RxDropped }
		r.devPort = port
		dir = sourceOf(root, "plugins", "wiznet")
	default:
		return nil, fmt.Errorf("no model %q", model)
	}
	if dev.Close != nil {
		r.closers = append(r.closers, dev.Close)
	}
	r.mirror = newWireMirror(router.Attach("mirror"))
	r.closers = append(r.closers, r.mirror.stop)

	o := host.Options{
		Hostname: "reload",
		Logger:   slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Progress: progress,
		Buses:    dev.Sims,
	}
	o.Engine = engine
	if r.Host, err = host.New(o); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { r.Host.Close() })
	// The two builds: the module built from dir, and the same bytes with a
	// custom section appended. They are two modules to the host (two
	// digests, two compilations) running the same driver code, so a
	// reload between them is a real module swap.
	res, err := r.Host.Builder().Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		return nil, err
	}
	for i, extra := range []string{"", "build b"} {
		b := wasm
		if extra != "" {
			b = AppendCustomSection(slices.Clone(wasm), "nichost-bench", []byte(extra))
		}
		r.builds[i] = filepath.Join(tmp, fmt.Sprintf("%s-%c.wasm", model, 'a'+i))
		if err := os.WriteFile(r.builds[i], b, 0o644); err != nil {
			return nil, err
		}
	}
	// Each forced trap is measured as a restart after a healthy run: a
	// short healthy_after keeps the back-off at its first step (100 ms)
	// instead of doubling it for traps a second apart, as for a crash
	// loop.
	cfg := config.PluginConfig{Name: "eth0", Source: r.builds[0], Buses: dev.Buses, Options: map[string]any{"fault_injection": true},
		Limits: config.Limits{HealthyAfter: 500 * time.Millisecond}}
	r.Plugin, _, err = r.Host.Load(ctx, cfg)
	if err != nil && strings.Contains(err.Error(), `unknown option "fault_injection"`) {
		// An SDK without fault injection: no traps.
		cfg.Options, r.NoFaults = nil, true
		r.Plugin, _, err = r.Host.Load(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	r.next = 1
	r.NIC = r.Plugin.NICs()[0]
	if err := r.NIC.SetActive(ctx, true); err != nil {
		return nil, err
	}
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { ok, _ := r.NIC.IsConnected(ctx); return ok }) {
		return nil, fmt.Errorf("no link and DHCP lease within %v", poll.DefaultLimit())
	}
	return r, nil
}

// Close releases the rig.
func (r *ReloadRig) Close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// Logs is what the host logged so far.
func (r *ReloadRig) Logs() string { return r.logs.String() }

// DevDrops is the number of frames the device dropped (its port's queue,
// the chip's buffer).
func (r *ReloadRig) DevDrops() uint64 { return r.drops() }

// Now is the wire mirror's clock.
func (r *ReloadRig) Now() time.Duration { return r.mirror.now() }

// Pause is the longest time between two frames on the wire from t0 to t1
// (the gap that spans t0 included).
func (r *ReloadRig) Pause(t0, t1 time.Duration) time.Duration { return r.mirror.pause(t0, t1) }

// AppendCustomSection appends a wasm custom section (id 0) to module.
func AppendCustomSection(module []byte, name string, payload []byte) []byte {
	body := appendULEB(nil, uint64(len(name)))
	body = append(body, name...)
	body = append(body, payload...)
	module = append(module, 0)
	module = appendULEB(module, uint64(len(body)))
	return append(module, body...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// Reload swaps in the other build.
func (r *ReloadRig) Reload(ctx context.Context) error {
	src := r.builds[r.next]
	r.next ^= 1
	_, err := r.Plugin.Reload(ctx, src)
	return err
}

// Trap makes the running instance trap through the SDK's fault injection
// and waits for the next instance to be up.
func (r *ReloadRig) Trap(ctx context.Context) error {
	if r.NoFaults {
		return ErrNoFaults
	}
	gen := r.Plugin.Generation()
	_, err := r.NIC.Call(ctx, "_fault", "trap")
	if err == nil {
		return errors.New(`call("_fault", "trap") returned without a fault`)
	}
	if !errors.Is(err, host.ErrTrap) {
		return fmt.Errorf(`call("_fault", "trap") = %v, want a trap`, err)
	}
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { return r.Plugin.Generation() > gen && r.Plugin.State().Up }) {
		return fmt.Errorf("no instance up within %v after the trap", poll.DefaultLimit())
	}
	return nil
}

// FrameAccounts tells what became of the frames on the path: how many one
// end put on the wire or handed to the driver that the other end never got
// (Lost), and how many of those some counter counted (Counted). Frames
// still in flight count as lost until they arrive.
type FrameAccounts struct {
	Lost, Counted int64
	Drops         map[string]uint64
	// Where: frames the device's port took off the wire that the host
	// never got (port drops, chip drops, driver discards), and frames the
	// driver took that never reached the wire.
	InDevice, NotSent int64
}

func (a FrameAccounts) String() string {
	return fmt.Sprintf("%d lost (%d counted): %d in the device, %d taken and not sent, host drops %v", a.Lost, a.Counted, a.InDevice, a.NotSent, a.Drops)
}

// Accounts counts the frames of the path so far.
func (r *ReloadRig) Accounts() FrameAccounts {
	st := r.NIC.Stats()
	// Every frame written on the segment is the router's or the device's
	// (the mirror only reads).
	fromDUT := int64(r.devPort.Stats().TxFrames)
	fromRouter := int64(r.Router.Segment.Stats().Frames) - fromDUT
	var drops int64
	for _, n := range st.Drops {
		drops += int64(n)
	}
	// Toward the host: what the router put on the wire and the driver did
	// not hand to the host. Toward the router: what the driver took and
	// did not put on the wire. Frames the host dropped after counting them
	// received, or before offering them, are in drops.
	lost := (fromRouter - int64(st.RxFrames)) + (int64(st.TxFrames) - fromDUT) + drops
	return FrameAccounts{Lost: lost, Counted: drops + int64(r.drops()), Drops: st.Drops,
		InDevice: fromRouter - int64(st.RxFrames), NotSent: int64(st.TxFrames) - fromDUT}
}

// Quiet waits until no frame has moved on the wire for 200 ms, so that
// Accounts has nothing in flight.
func (r *ReloadRig) Quiet(ctx context.Context) error {
	last, since := r.mirror.seen.Load(), r.mirror.now()
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool {
		if n := r.mirror.seen.Load(); n != last {
			last, since = n, r.mirror.now()
		}
		return r.mirror.now()-since > 200*time.Millisecond
	}) {
		return fmt.Errorf("the wire did not go quiet within %v", poll.DefaultLimit())
	}
	return nil
}

// ReloadEvent is one reload or restart, measured.
type ReloadEvent struct {
	Kind             string
	Pause, Took      time.Duration
	RxRatio, TxRatio float64
	Rx, Tx           [2]float64 // bytes per second before and after
}

// Measure runs event (a reload or a trap) under the stream d and measures
// it: the longest time no frame moved on the wire from the event's start
// to after (a second, in the benchmark) after its end, the frames lost,
// and each direction's throughput in the after window against as long a
// window before the event began.
func (r *ReloadRig) Measure(ctx context.Context, d *Duplex, kind string, after time.Duration, event func() error) (ReloadEvent, error) {
	t0 := r.mirror.now()
	if err := event(); err != nil {
		return ReloadEvent{}, fmt.Errorf("%s: %w", kind, err)
	}
	t1 := r.mirror.now()
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { return r.mirror.now() > t1+after+20*time.Millisecond }) {
		return ReloadEvent{}, ctx.Err()
	}
	if err := d.Err(); err != nil {
		return ReloadEvent{}, fmt.Errorf("%s: %w\nhost log:\n%s", kind, err, r.logs.String())
	}
	upB, downB := d.rates(t0-after, t0)
	upA, downA := d.rates(t1, t1+after)
	return ReloadEvent{
		Kind: kind, Pause: r.mirror.pause(t0, t1+after), Took: t1 - t0,
		RxRatio: downA / downB, TxRatio: upA / upB,
		Rx: [2]float64{downB, downA}, Tx: [2]float64{upB, upA},
	}, nil
}

// PaceRates are the rates the benchmark streams run at, each way, per
// model: below what the device carries both ways at once on a small
// machine (the W5500's wire is paced at 100 Mb/s), so that a frame lost is
// one the reload lost, not one a full buffer dropped as a bulk stream
// makes it do all the time. NICHOST_BENCH_RATE (bytes a second; 0 for
// bulk) overrides them.
var PaceRates = map[string]float64{"lan": 20e6, "w5500": 2e6}

// PaceRate is model's rate in PaceRates, or $NICHOST_BENCH_RATE.
func PaceRate(model string) float64 {
	if v := os.Getenv("NICHOST_BENCH_RATE"); v != "" {
		var r float64
		if _, err := fmt.Sscan(v, &r); err == nil {
			return r
		}
	}
	return PaceRates[model]
}

// measureReload: warm reloads of the Go LAN driver under a paced stream
// both ways: the longest pause, against the stream's longest gap before
// the reloads, and the frames lost per reload.
func measureReload(ctx context.Context, e *env, rec *recorder) error {
	r, err := NewReloadRig(ctx, e.Root, "lan", "wazero", e.tmp, e.Progress)
	if err != nil {
		return err
	}
	defer r.Close()
	// Both builds compiled once before anything is measured.
	for range 2 {
		if err := r.Reload(ctx); err != nil {
			return err
		}
	}
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { ok, _ := r.NIC.IsConnected(ctx); return ok }) {
		return errors.New("no link and lease after the first reloads")
	}
	if err := r.Quiet(ctx); err != nil {
		return err
	}
	after, steady := time.Second, 2*time.Second
	if e.Quick {
		after, steady = 300*time.Millisecond, 500*time.Millisecond
	}
	lost0 := r.Accounts().Lost
	d, err := r.StartDuplex(ctx, 0, PaceRate("lan"))
	if err != nil {
		return err
	}
	if !poll.Until(ctx, poll.DefaultLimit(), func() bool { return d.Up() > 0 && d.Down() > 0 }) {
		d.Stop()
		return errors.New("the streams did not start")
	}
	t := r.Now()
	poll.Until(ctx, steady+time.Second, func() bool { return r.Now() > t+steady })
	gap := r.Pause(t, r.Now())
	var evs []ReloadEvent
	start := time.Now()
	for time.Since(start) < e.budget || len(evs) < 2 {
		ev, err := r.Measure(ctx, d, "reload", after, func() error { return r.Reload(ctx) })
		if err != nil {
			d.Stop()
			return err
		}
		evs = append(evs, ev)
	}
	d.Stop()
	if err := r.Quiet(ctx); err != nil {
		return err
	}
	a := r.Accounts()
	lost := a.Lost - lost0
	e.progress("reload: %d warm reloads; since the rig started: %v", len(evs), a)
	var pause time.Duration
	for _, ev := range evs {
		pause = max(pause, ev.Pause)
	}
	rec.set([]string{"reload_pause_ms"}, ms(pause), ms(gap))
	rec.setValue([]string{"reload_frames_lost"}, float64(lost)/float64(len(evs)))
	return nil
}

// lockedBuffer is a bytes.Buffer several goroutines may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// wireMirror reads every frame on the segment and keeps their times.
type wireMirror struct {
	port *sim.FramePort
	quit chan struct{}
	done chan struct{}
	seen atomic.Int64

	mu     sync.Mutex
	times  []time.Duration // since start, of every frame seen
	start  time.Time
	notify chan struct{}
}

func newWireMirror(port *sim.FramePort) *wireMirror {
	m := &wireMirror{port: port, quit: make(chan struct{}), done: make(chan struct{}), start: time.Now(), notify: make(chan struct{}, 1)}
	port.Notify(func() {
		select {
		case m.notify <- struct{}{}:
		default:
		}
	})
	go m.run()
	return m
}

func (m *wireMirror) run() {
	defer close(m.done)
	buf := make([]byte, 2048)
	for {
		for {
			n, err := m.port.ReadFrame(buf)
			if err != nil || n == 0 {
				break
			}
			t := time.Since(m.start)
			m.mu.Lock()
			m.times = append(m.times, t)
			m.mu.Unlock()
			m.seen.Add(1)
		}
		select {
		case <-m.quit:
			return
		case <-m.notify:
		}
	}
}

func (m *wireMirror) stop() {
	select {
	case <-m.quit:
	default:
		close(m.quit)
	}
	<-m.done
}

// now is the mirror's clock.
func (m *wireMirror) now() time.Duration { return time.Since(m.start) }

// pause is the longest time between two frames on the wire from t0 to t1
// (the gap that spans t0 included).
func (m *wireMirror) pause(t0, t1 time.Duration) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, _ := slices.BinarySearch(m.times, t0)
	if i > 0 {
		i--
	}
	var longest time.Duration
	prev := time.Duration(-1)
	for _, t := range m.times[i:] {
		if prev >= 0 {
			longest = max(longest, t-prev)
		}
		if t > t1 {
			break
		}
		prev = t
	}
	if prev >= 0 && len(m.times) > 0 && m.times[len(m.times)-1] <= t1 {
		longest = max(longest, t1-m.times[len(m.times)-1])
	}
	return longest
}
