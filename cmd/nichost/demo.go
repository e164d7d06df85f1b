package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus"
)

// The demo runs the plugin host on simulated hardware. Until the first
// device drivers land it shows the host's own job: building and loading a
// sandboxed driver, granting it simulated buses, moving Ethernet frames
// through it both ways, and containing a driver that hangs.

func newDemo() *cobra.Command {
	var (
		once, asJSON bool
		frames       int
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the plugin host on built-in simulated hardware (no root, no hardware)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := moduleRoot()
			if err != nil {
				return err
			}
			d := &demo{out: cmd.OutOrStdout(), json: asJSON, frames: frames, root: root}
			if asJSON {
				d.out = io.Discard
			}
			results, err := d.run(cmd.Context())
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, r := range results {
					enc.Encode(r)
				}
			}
			if err != nil {
				return err
			}
			if failed := failures(results); failed != "" {
				return fmt.Errorf("demo failed: %s", failed)
			}
			if !once && !asJSON {
				return d.live(cmd.Context())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "exit after one pass (status 1 if any step failed)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per NIC instead of text (implies --once)")
	cmd.Flags().IntVar(&frames, "frames", 2000, "Ethernet frames to send each way")
	return cmd
}

// nicResult is what the demo reports per NIC.
type nicResult struct {
	Name        string  `json:"name"`
	Class       string  `json:"class"`
	Plugin      string  `json:"plugin"`
	Load        string  `json:"load"` // "cold" or "cached"
	LoadMillis  int64   `json:"load_ms"`
	Active      bool    `json:"active"`
	IsConnected bool    `json:"isconnected"`
	Link        bool    `json:"link"`
	Status      any     `json:"status"`
	RxFrames    int     `json:"rx_frames"`
	TxFrames    int     `json:"tx_frames"`
	FramesPerS  float64 `json:"frames_per_s"`
	Restarts    int     `json:"restarts"`
	Contained   string  `json:"contained,omitempty"` // for the hostile driver: the error it was stopped with
	Error       string  `json:"error"`
}

func failures(rs []nicResult) string {
	var bad []string
	for _, r := range rs {
		if r.Error != "" {
			bad = append(bad, r.Name+": "+r.Error)
		}
	}
	return strings.Join(bad, "; ")
}

type demo struct {
	out    io.Writer
	json   bool
	frames int
	root   string
	h      *host.Host
	nics   []*host.NIC
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

// countLink stands in for the network core: it counts the frames the NIC
// delivers.
type countLink struct{ frames atomic.Int64 }

func (l *countLink) DeliverFrame([]byte) error  { l.frames.Add(1); return nil }
func (l *countLink) LinkChanged(host.LinkState) {}
func (l *countLink) Reported(map[string]any)    {}

func (d *demo) run(ctx context.Context) ([]nicResult, error) {
	seg := bus.NewSegment(bus.SegmentOptions{Seed: 1, QueueLen: 4096})
	port := seg.Attach("eth0-port")
	peer := seg.Attach("peer")
	h, err := host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hostname: "nichost-demo",
		Progress: func(msg string) { d.say("  %s", msg) },
		Buses:    map[string]any{"segment": port},
	})
	if err != nil {
		return nil, err
	}
	d.h = h
	d.say("nichost demo: sandboxed NIC drivers on simulated hardware\n")

	var results []nicResult
	r := d.ethernet(ctx, seg, peer)
	results = append(results, r)
	results = append(results, d.hostile(ctx))
	return results, nil
}

// ethernet loads the test driver with a simulated Ethernet segment and
// moves frames through it both ways.
func (d *demo) ethernet(ctx context.Context, seg *bus.Segment, peer *bus.SimFramePort) nicResult {
	res := nicResult{Name: "eth0", Plugin: "host/testdata/plugins/full"}
	d.say("eth0: driver %s", res.Plugin)
	t0 := time.Now()
	p, info, err := d.h.Load(ctx, host.PluginConfig{
		Name: "eth0", Source: filepath.Join(d.root, "host", "testdata", "plugins", "full"),
		Buses:   map[string]host.BusGrant{"port": {Kind: "frame", Sim: "segment"}},
		Options: map[string]any{"bridge": true},
	})
	if err != nil {
		res.Error = err.Error()
		d.say("  load failed: %v", err)
		return res
	}
	res.LoadMillis = time.Since(t0).Milliseconds()
	res.Load = "cached"
	if (info.Build != nil && !info.Build.Cached) || !info.CompileCached {
		res.Load = "cold"
	}
	nic := p.NICs()[0]
	d.nics = append(d.nics, nic)
	res.Class = nic.Class()
	d.say("  loaded (%s) in %d ms: class %s, MAC %s", res.Load, res.LoadMillis, res.Class, nic.MAC())
	link := &countLink{}
	nic.Attach(link)
	if err := nic.SetActive(ctx, true); err != nil {
		res.Error = err.Error()
		return res
	}
	res.Active, _ = nic.Active(ctx)
	res.IsConnected, _ = nic.IsConnected(ctx)
	res.Status, _ = nic.Status(ctx)
	res.Link = nic.LinkState().Up
	d.say("  active=%v link=%v status=%v", res.Active, res.Link, res.Status)

	// The peer sends frames to the NIC; the NIC sends frames to the peer.
	frame := bytes.Repeat([]byte{0x42}, 1500)
	copy(frame, nic.MAC())
	t1 := time.Now()
	for i := 0; i < d.frames; i++ {
		for peer.WriteFrame(frame) != nil {
			time.Sleep(time.Millisecond)
		}
		for nic.Transmit(frame) != nil { // queue full: let the driver catch up
			time.Sleep(100 * time.Microsecond)
		}
	}
	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	for (int(link.frames.Load()) < d.frames || res.TxFrames < d.frames) && time.Now().Before(deadline) {
		if n, _ := peer.ReadFrame(buf); n > 0 {
			res.TxFrames++
			continue
		}
		time.Sleep(100 * time.Microsecond)
	}
	el := time.Since(t1)
	res.RxFrames = int(link.frames.Load())
	res.FramesPerS = float64(res.RxFrames+res.TxFrames) / el.Seconds()
	d.say("  frames: %d in, %d out through the sandbox in %v (%.0f frames/s, %.1f MB/s)",
		res.RxFrames, res.TxFrames, el.Round(time.Millisecond), res.FramesPerS, res.FramesPerS*1500/1e6)
	if res.RxFrames != d.frames || res.TxFrames != d.frames {
		res.Error = fmt.Sprintf("moved %d/%d frames in and %d/%d out", res.RxFrames, d.frames, res.TxFrames, d.frames)
	}
	return res
}

// hostile loads a driver whose active() never returns and shows that the
// host interrupts it, restarts it, and that the other NIC is unaffected.
func (d *demo) hostile(ctx context.Context) nicResult {
	res := nicResult{Name: "bad0", Plugin: "host/testdata/plugins/hostile/loop"}
	d.say("\nbad0: driver %s (active() loops forever)", res.Plugin)
	t0 := time.Now()
	p, info, err := d.h.Load(ctx, host.PluginConfig{
		Name: "bad0", Source: filepath.Join(d.root, "host", "testdata", "plugins", "hostile", "loop"),
		Limits: host.Limits{CallTimeout: 300 * time.Millisecond},
	})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.LoadMillis, res.Load = time.Since(t0).Milliseconds(), "cached"
	if (info.Build != nil && !info.Build.Cached) || !info.CompileCached {
		res.Load = "cold"
	}
	nic := p.NICs()[0]
	d.nics = append(d.nics, nic)
	res.Class = nic.Class()
	d.say("  loaded (%s) in %d ms; calling active(True) with a 300 ms call deadline", res.Load, res.LoadMillis)
	err = nic.SetActive(ctx, true)
	if !errors.Is(err, host.ErrTimeout) {
		res.Error = fmt.Sprintf("expected the host to interrupt active(True), got %v", err)
		return res
	}
	res.Contained = err.Error()
	d.say("  active(True) interrupted: %v", err)
	up, err := nic.Active(ctx)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Active, res.Restarts = up, p.State().Restarts
	d.say("  restarted %d time(s); active() answers %v again", res.Restarts, up)
	if len(d.nics) > 1 {
		if _, err := d.nics[0].Active(ctx); err != nil {
			res.Error = "the other NIC stopped answering: " + err.Error()
		} else {
			d.say("  eth0 kept working throughout")
		}
	}
	return res
}

// live prints a status line per NIC every second until interrupted.
func (d *demo) live(ctx context.Context) error {
	defer d.h.Close()
	d.say("\nlive status (Ctrl-C to stop):")
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, n := range d.nics {
			d.say("  %s", statusLine(ctx, n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// moduleRoot finds the nichost source tree the demo builds its plugins
// from: the current directory or a parent holding nichost's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/nichost/nichost\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("demo: run it from a nichost source tree (it builds its plugins from source)")
		}
		dir = parent
	}
}
