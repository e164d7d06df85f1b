package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/lan/landev"
	"github.com/nichost/nichost/plugins/wiznet/wdev"
	"github.com/nichost/nichost/simnet"
)

// A hot reload and a restart after a trap, measured from outside: a TCP
// stream both ways between a nichost socket and the simulated LAN's
// router, through the LAN driver on its lan8720 simulator or the W5500
// driver on its simulator, while the plugin is reloaded (alternating two
// builds of the same driver) or made to trap. Nothing here needs root.

// reloadRig is the simulated LAN, a host running one driver plugin on one
// simulated device, the two builds it alternates, and a mirror port that
// sees every frame on the wire.
type reloadRig struct {
	model    string // "lan" or "w5500"
	router   *simnet.Router
	h        *host.Host
	p        *host.Plugin
	nic      *host.NIC
	builds   [2]string // two .wasm files of the driver, differing in one custom section
	next     int       // the build the next reload loads
	noFaults bool      // the SDK has no fault injection
	port     int       // streams started so far

	devDrops func() uint64  // frames the device dropped (port queue, chip buffer)
	devPort  *sim.FramePort // the device's port on the LAN
	mirror   *wireMirror
	logs     *testenv.Buffer
}

// newReloadRig loads model's driver ("lan": plugins/lan on a LAN8720A
// whose auto-negotiation takes 300 ms, as the demo's; "w5500":
// plugins/wiznet with its interrupt line) with fault injection on, brings
// it up and waits for its DHCP lease.
func newReloadRig(tb testing.TB, model string) *reloadRig {
	tb.Helper()
	router, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(router.Close)
	r := &reloadRig{model: model, router: router, logs: &testenv.Buffer{}}
	var dev *simnet.Device
	var dir string
	switch model {
	case "lan":
		dev = landev.New(router, "dut", 300*time.Millisecond)
		port := dev.Sims["dut-port"].(*sim.FramePort)
		r.devDrops = func() uint64 { return port.Stats().Dropped }
		r.devPort = port
		dir = filepath.Join("..", "plugins", "lan")
	case "w5500":
		port := router.Attach("dut")
		d := wdev.New(port, "dut", true)
		dev = d.Device
		chip := d.Chip
		r.devDrops = func() uint64 { return port.Stats().Dropped + chip.Stats().RxDropped }
		r.devPort = port
		dir = filepath.Join("..", "plugins", "wiznet")
	default:
		tb.Fatalf("no model %q", model)
	}
	if dev.Close != nil {
		tb.Cleanup(dev.Close)
	}
	r.mirror = newWireMirror(router.Attach("mirror"))
	tb.Cleanup(r.mirror.stop)

	r.h, err = host.New(host.Options{
		Hostname: "reload",
		Logger:   slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Buses:    dev.Sims,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.h.Close() })
	// The two builds: the module built from dir, and the same bytes with a
	// custom section appended. They are two modules to the host (two
	// digests, two compilations) running the same driver code, so a
	// reload between them is a real module swap.
	res, err := r.h.Builder().Build(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		tb.Fatal(err)
	}
	tmp := tb.TempDir()
	for i, extra := range []string{"", "build b"} {
		b := wasm
		if extra != "" {
			b = appendCustomSection(slices.Clone(wasm), "nichost-bench", []byte(extra))
		}
		r.builds[i] = filepath.Join(tmp, fmt.Sprintf("%s-%c.wasm", model, 'a'+i))
		if err := os.WriteFile(r.builds[i], b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	// Each forced trap is measured as a restart after a healthy run: a
	// short healthy_after keeps the back-off at its first step (100 ms)
	// instead of doubling it for traps a second apart, as for a crash
	// loop.
	cfg := config.PluginConfig{Name: "eth0", Source: r.builds[0], Buses: dev.Buses, Options: map[string]any{"fault_injection": true},
		Limits: config.Limits{HealthyAfter: 500 * time.Millisecond}}
	r.p, _, err = r.h.Load(context.Background(), cfg)
	if err != nil && strings.Contains(err.Error(), `unknown option "fault_injection"`) {
		// An SDK without fault injection: no traps.
		cfg.Options, r.noFaults = nil, true
		r.p, _, err = r.h.Load(context.Background(), cfg)
	}
	if err != nil {
		tb.Fatal(err)
	}
	r.next = 1
	r.nic = r.p.NICs()[0]
	ctx := wait.Context(tb)
	if err := r.nic.SetActive(ctx, true); err != nil {
		tb.Fatal(err)
	}
	wait.For(tb, "the link and a DHCP lease", func() bool { ok, _ := r.nic.IsConnected(ctx); return ok })
	return r
}

// appendCustomSection appends a wasm custom section (id 0) to module.
func appendCustomSection(module []byte, name string, payload []byte) []byte {
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

// reload swaps in the other build.
func (r *reloadRig) reload(ctx context.Context) error {
	src := r.builds[r.next]
	r.next ^= 1
	_, err := r.p.Reload(ctx, src)
	return err
}

// trap makes the running instance trap through the SDK's fault injection
// and waits for the next instance to be up.
func (r *reloadRig) trap(tb testing.TB, ctx context.Context) {
	tb.Helper()
	if r.noFaults {
		tb.Skip("the Go SDK has no fault injection")
	}
	gen := r.p.Generation()
	_, err := r.nic.Call(ctx, "_fault", "trap")
	if err == nil {
		tb.Fatal(`call("_fault", "trap") returned without a fault`)
	}
	if !errors.Is(err, host.ErrTrap) {
		tb.Fatalf(`call("_fault", "trap") = %v, want a trap`, err)
	}
	wait.For(tb, "the instance after the trap", func() bool { return r.p.Generation() > gen && r.p.State().Up })
}

// frameAccounts tells what became of the frames on the path: how many one end
// put on the wire or handed to the driver that the other end never got
// (lost), and how many of those some counter counted (counted). Frames
// still in flight count as lost until they arrive.
type frameAccounts struct {
	lost, counted int64
	drops         map[string]uint64
	// Where: frames the device's port took off the wire that the host
	// never got (port drops, chip drops, driver discards), and frames the
	// driver took that never reached the wire.
	inDevice, notSent int64
}

func (a frameAccounts) String() string {
	return fmt.Sprintf("%d lost (%d counted): %d in the device, %d taken and not sent, host drops %v", a.lost, a.counted, a.inDevice, a.notSent, a.drops)
}

func (r *reloadRig) accounts() frameAccounts {
	st := r.nic.Stats()
	// Every frame written on the segment is the router's or the device's
	// (the mirror only reads).
	fromDUT := int64(r.devPort.Stats().TxFrames)
	fromRouter := int64(r.router.Segment.Stats().Frames) - fromDUT
	var drops int64
	for _, n := range st.Drops {
		drops += int64(n)
	}
	// Toward the host: what the router put on the wire and the driver did
	// not hand to the host. Toward the router: what the driver took and
	// did not put on the wire. Frames the host dropped after counting them
	// received, or before offering them, are in drops.
	lost := (fromRouter - int64(st.RxFrames)) + (int64(st.TxFrames) - fromDUT) + drops
	return frameAccounts{lost: lost, counted: drops + int64(r.devDrops()), drops: st.Drops,
		inDevice: fromRouter - int64(st.RxFrames), notSent: int64(st.TxFrames) - fromDUT}
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
	rec    bool
	frames []recFrame
}

type recFrame struct {
	t time.Duration
	b []byte
}

func (m *wireMirror) record(on bool) { m.mu.Lock(); m.rec = on; m.mu.Unlock() }
func (m *wireMirror) recorded() []recFrame {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.frames
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
			if m.rec {
				m.frames = append(m.frames, recFrame{t, slices.Clone(buf[:min(n, 80)])})
			}
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

// gapAt returns the start of the longest gap in [t0, t1], as a wall time.
func (m *wireMirror) gapAt(t0, t1 time.Duration) (time.Time, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var at, longest time.Duration
	prev := time.Duration(-1)
	for _, t := range m.times {
		if t < t0 {
			prev = t
			continue
		}
		if prev >= 0 && t-prev > longest {
			longest, at = t-prev, prev
		}
		if t > t1 {
			break
		}
		prev = t
	}
	return m.start.Add(at), longest
}

// duplex is a TCP connection between the host and the router carrying a
// pseudo-random stream each way, each checked byte for byte by its reader.
type duplex struct {
	clock      func() time.Duration
	up, down   atomic.Int64 // bytes received by the router (up) and by the host (down)
	mu         sync.Mutex
	samples    []streamSample
	quit       chan struct{}
	errs       chan error
	conns      []net.Conn
	wg         sync.WaitGroup
	total      int64   // bytes each way; 0: until stopped
	rate       float64 // bytes per second each way; 0: as fast as it goes
	sampleStop chan struct{}
}

type streamSample struct {
	t        time.Duration
	up, down int64
}

// startDuplex connects to the router and starts both streams; total bytes
// each way (0: until stop), at rate bytes a second each way (0: as fast as
// they go).
func (r *reloadRig) startDuplex(tb testing.TB, total int64, rate float64) *duplex {
	tb.Helper()
	r.port++ // a connection's port may linger after it closed
	addr := net.JoinHostPort(simnet.RouterAddr.String(), fmt.Sprint(9400+r.port))
	ln, err := r.router.NIC.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := r.h.Dial(wait.Context(tb), "tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		tb.Fatal("the router accepted no connection")
	}
	d := &duplex{clock: r.mirror.now, quit: make(chan struct{}), errs: make(chan error, 4), conns: []net.Conn{c, s}, total: total, rate: rate, sampleStop: make(chan struct{})}
	d.wg.Add(4)
	go d.send(c, 1)
	go d.send(s, 2)
	go d.receive(s, 1, &d.up)
	go d.receive(c, 2, &d.down)
	go d.sampleLoop()
	return d
}

const (
	chunkSize = 64 << 10
	paceChunk = 8 << 10 // what a paced sender writes at a time
)

// paceRates are the rates the benchmark streams run at, each way, per
// model: below what the device carries both ways at once on a small
// machine (the W5500's wire is paced at 100 Mb/s), so that a frame lost is
// one the reload lost, not one a full buffer dropped as a bulk stream
// makes it do all the time. NICHOST_BENCH_RATE (bytes a second; 0 for
// bulk) overrides them.
var paceRates = map[string]float64{"lan": 20e6, "w5500": 2e6}

func paceRate(model string) float64 {
	if v := os.Getenv("NICHOST_BENCH_RATE"); v != "" {
		var r float64
		if _, err := fmt.Sscan(v, &r); err == nil {
			return r
		}
	}
	return paceRates[model]
}

func (d *duplex) send(c net.Conn, seed byte) {
	defer d.wg.Done()
	rng := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, chunkSize)
	var sent int64
	start := time.Now()
	for d.total == 0 || sent < d.total {
		select {
		case <-d.quit:
			return
		default:
		}
		if d.rate > 0 {
			if ahead := time.Duration(float64(sent)/d.rate*1e9) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		n := int64(len(buf))
		if d.rate > 0 {
			n = paceChunk
		}
		if d.total > 0 {
			n = min(n, d.total-sent)
		}
		rng.Read(buf[:n])
		if _, err := c.Write(buf[:n]); err != nil {
			select {
			case <-d.quit:
			default:
				d.errs <- fmt.Errorf("sending (seed %d) after %d bytes: %w", seed, sent, err)
			}
			return
		}
		sent += n
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
}

func (d *duplex) receive(c net.Conn, seed byte, count *atomic.Int64) {
	defer d.wg.Done()
	rng := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, chunkSize)
	want := make([]byte, chunkSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			rng.Read(want[:n])
			if !bytes.Equal(buf[:n], want[:n]) {
				d.errs <- fmt.Errorf("stream %d: the bytes after offset %d differ from those sent", seed, count.Load())
				return
			}
			count.Add(int64(n))
		}
		if errors.Is(err, io.EOF) {
			if d.total > 0 && count.Load() != d.total {
				d.errs <- fmt.Errorf("stream %d ended after %d of %d bytes", seed, count.Load(), d.total)
			}
			return
		}
		if err != nil {
			select {
			case <-d.quit:
			default:
				d.errs <- fmt.Errorf("stream %d after %d bytes: %w", seed, count.Load(), err)
			}
			return
		}
	}
}

// sampleLoop records the byte counts every few milliseconds.
func (d *duplex) sampleLoop() {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		d.mu.Lock()
		d.samples = append(d.samples, streamSample{t: d.clock(), up: d.up.Load(), down: d.down.Load()})
		d.mu.Unlock()
		select {
		case <-d.sampleStop:
			return
		case <-tick.C:
		}
	}
}

// at returns the counts at time t (the last streamSample not after it).
func (d *duplex) at(t time.Duration) streamSample {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, _ := slices.BinarySearchFunc(d.samples, t, func(s streamSample, t time.Duration) int { return int(s.t - t) })
	if i >= len(d.samples) {
		i = len(d.samples) - 1
	}
	if i > 0 && d.samples[i].t > t {
		i--
	}
	return d.samples[i]
}

// rates returns the bytes per second up and down between t0 and t1.
func (d *duplex) rates(t0, t1 time.Duration) (up, down float64) {
	a, b := d.at(t0), d.at(t1)
	sec := (b.t - a.t).Seconds()
	if sec <= 0 {
		return 0, 0
	}
	return float64(b.up-a.up) / sec, float64(b.down-a.down) / sec
}

// err returns the first error either stream had, if any.
func (d *duplex) err() error {
	select {
	case err := <-d.errs:
		return err
	default:
		return nil
	}
}

// wait waits for both streams to end (total bytes each way).
func (d *duplex) wait() error {
	d.wg.Wait()
	close(d.sampleStop)
	for _, c := range d.conns {
		c.Close()
	}
	return d.err()
}

// stop ends an endless stream.
func (d *duplex) stop() {
	close(d.quit)
	for _, c := range d.conns {
		c.Close()
	}
	d.wg.Wait()
	close(d.sampleStop)
}

// reloadEvent is one reload or restart, measured.
type reloadEvent struct {
	kind             string
	pause, took      time.Duration
	rxRatio, txRatio float64
	rx, tx           [2]float64 // bytes per second before and after
}

// measure runs event (a reload or a trap) under the stream and measures
// it: the longest time no frame moved on the wire from the event's start
// to a second after its end, the frames lost, and each direction's
// throughput in the second after the event ended against the second
// before it began.
func (r *reloadRig) measure(tb testing.TB, d *duplex, kind string, event func()) reloadEvent {
	tb.Helper()
	t0 := r.mirror.now()
	event()
	t1 := r.mirror.now()
	wait.For(tb, "a second of traffic after the event", func() bool { return r.mirror.now() > t1+time.Second+20*time.Millisecond })
	if err := d.err(); err != nil {
		tb.Fatalf("%s: %v\nhost log:\n%s", kind, err, r.logs.String())
	}
	upB, downB := d.rates(t0-time.Second, t0)
	upA, downA := d.rates(t1, t1+time.Second)
	return reloadEvent{
		kind: kind, pause: r.mirror.pause(t0, t1+time.Second), took: t1 - t0,
		rxRatio: downA / downB, txRatio: upA / upB,
		rx: [2]float64{downB, downA}, tx: [2]float64{upB, upA},
	}
}

// BenchmarkReload measures, for each driver, a warm reload under a TCP
// stream both ways and a restart after a forced trap: pause_ms (the
// longest time no frame moved on the wire around the event, the worst of
// the run), lost_frames (frames one end sent that the other never got, per
// event), and rx_after_vs_before and tx_after_vs_before (each direction's
// throughput in the second after the event against the second before it,
// measured in the same run; the mean, and the worst as min_rx_ratio and
// min_tx_ratio).
//
//	go test -run '^$' -bench Reload -benchtime 5x ./tests/
func BenchmarkReload(b *testing.B) {
	for _, model := range []string{"lan", "w5500"} {
		b.Run(model, func(b *testing.B) {
			r := newReloadRig(b, model)
			ctx := wait.Context(b)
			// Both builds compiled once before anything is measured.
			for range 2 {
				if err := r.reload(ctx); err != nil {
					b.Fatal(err)
				}
			}
			wait.For(b, "the link and the lease after the reloads", func() bool { ok, _ := r.nic.IsConnected(ctx); return ok })
			for _, kind := range []string{"reload", "restart"} {
				b.Run(kind, func(b *testing.B) {
					if kind == "restart" && r.noFaults {
						b.Skip("the Go SDK has no fault injection")
					}
					r.quiet(b)
					lost0 := r.accounts().lost
					d := r.startDuplex(b, 0, paceRate(model))
					wait.For(b, "two seconds of traffic", func() bool { return d.up.Load() > 0 && d.down.Load() > 0 })
					t := r.mirror.now()
					wait.For(b, "two seconds of traffic", func() bool { return r.mirror.now() > t+2*time.Second })
					var evs []reloadEvent
					for range b.N {
						evs = append(evs, r.measure(b, d, kind, func() {
							if kind == "reload" {
								if err := r.reload(ctx); err != nil {
									b.Fatal(err)
								}
								return
							}
							r.trap(b, ctx)
						}))
					}
					d.stop()
					r.quiet(b)
					a := r.accounts()
					reportReloads(b, evs, a.lost-lost0)
					b.Logf("in all since the start: %v; device drops %d", a, r.devDrops())
				})
			}
		})
	}
}

// quiet waits until no frame has moved on the wire for 200 ms, so that
// frameAccounts has nothing in flight.
func (r *reloadRig) quiet(tb testing.TB) {
	tb.Helper()
	last, since := r.mirror.seen.Load(), r.mirror.now()
	wait.For(tb, "the wire to go quiet", func() bool {
		if n := r.mirror.seen.Load(); n != last {
			last, since = n, r.mirror.now()
		}
		return r.mirror.now()-since > 200*time.Millisecond
	})
}

// reportReloads reports the worst pause, the frames lost per event, and the
// ratios of evs.
func reportReloads(b *testing.B, evs []reloadEvent, lost int64) {
	var pause time.Duration
	rx, tx, minRx, minTx := 0.0, 0.0, 1e9, 1e9
	for _, e := range evs {
		pause = max(pause, e.pause)
		rx += e.rxRatio
		tx += e.txRatio
		minRx, minTx = min(minRx, e.rxRatio), min(minTx, e.txRatio)
		b.Logf("%s: pause %v, took %v, rx %.0f -> %.0f kB/s (%.2f), tx %.0f -> %.0f kB/s (%.2f)", e.kind,
			e.pause.Round(100*time.Microsecond), e.took.Round(100*time.Microsecond),
			e.rx[0]/1e3, e.rx[1]/1e3, e.rxRatio, e.tx[0]/1e3, e.tx[1]/1e3, e.txRatio)
	}
	n := float64(len(evs))
	b.ReportMetric(float64(pause.Microseconds())/1000, "pause_ms")
	b.ReportMetric(float64(lost)/n, "lost_frames")
	b.ReportMetric(rx/n, "rx_after_vs_before")
	b.ReportMetric(tx/n, "tx_after_vs_before")
	b.ReportMetric(minRx, "min_rx_ratio")
	b.ReportMetric(minTx, "min_tx_ratio")
}

// testRates are the streams' rates in TestReload_StreamSurvives, each way:
// well below the devices' capacity, so that the device's buffers (the
// LAN port's 512 frames, the W5500's 16 KiB) outlast the host's pauses on
// a loaded machine and a frame lost is one the host lost.
var testRates = map[string]float64{"lan": 10e6, "w5500": 500e3}

// A TCP stream both ways through each driver survives reloads alternating
// two builds and forced traps: both directions complete byte-exact on one
// connection, no frame is lost in the reloads, and every frame lost in the
// restarts after the traps is counted where it was dropped.
func TestReload_StreamSurvives(t *testing.T) {
	for _, model := range []string{"lan", "w5500"} {
		t.Run(model, func(t *testing.T) {
			r := newReloadRig(t, model)
			ctx := wait.Context(t)
			total := int64(testRates[model] * 3) // about 3 s each way
			const reloads = 6
			r.quiet(t)
			before := r.accounts()
			d := r.startDuplex(t, total, testRates[model])
			for i := range reloads {
				mark := total * int64(i+1) / (reloads + 1)
				wait.For(t, "the streams' progress", func() bool { return d.up.Load() >= mark && d.down.Load() >= mark })
				if err := r.reload(ctx); err != nil {
					t.Fatalf("reload %d: %v", i+1, err)
				}
			}
			if err := d.wait(); err != nil {
				t.Fatalf("across %d reloads: %v\nhost log:\n%s", reloads, err, r.logs.String())
			}
			r.quiet(t)
			after := r.accounts()
			if lost := after.lost - before.lost; lost != 0 {
				t.Fatalf("%d frames lost across %d warm reloads (drops %v, device drops %d)", lost, reloads, after.drops, r.devDrops())
			}
			if st := r.p.State(); st.Reloads != reloads+0 || st.Faults != 0 {
				t.Fatalf("state %+v after %d reloads", st, reloads)
			}
			if r.noFaults {
				t.Skip("the Go SDK has no fault injection: no traps")
			}

			const traps = 3
			before = after
			d = r.startDuplex(t, total, testRates[model])
			for i := range traps {
				mark := total * int64(i+1) / (traps + 1)
				wait.For(t, "the streams' progress", func() bool { return d.up.Load() >= mark && d.down.Load() >= mark })
				r.trap(t, ctx)
			}
			if err := d.wait(); err != nil {
				t.Fatalf("across %d traps: %v\nhost log:\n%s", traps, err, r.logs.String())
			}
			r.quiet(t)
			after = r.accounts()
			lost, counted := after.lost-before.lost, after.counted-before.counted
			t.Logf("%d traps: %d frames lost, %d counted (drops %v, device drops %d)", traps, lost, counted, after.drops, r.devDrops())
			if lost != counted {
				t.Fatalf("%d frames lost across %d traps, %d of them counted: %d dropped where nothing counts", lost, traps, counted, lost-counted)
			}
		})
	}
}
