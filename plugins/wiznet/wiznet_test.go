//go:build !wasip1

package main_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/plugins/wiznet/driver"
)

func TestWiznet_Describe(t *testing.T) {
	r := newRig(t, rigConfig{})
	d := r.plug.Description()
	if d.Class != abi.ClassWIZNET5K || d.Name != "w5500" || !slices.Equal(d.Interfaces, []string{"eth"}) {
		t.Fatalf("description %+v", d)
	}
	want := []abi.BusNeed{{Name: "spi", Kind: "spi"}, {Name: "rst", Kind: "gpio", Optional: true}, {Name: "int", Kind: "gpio", Optional: true}}
	if !slices.Equal(d.Buses, want) {
		t.Fatalf("buses %+v, want %+v", d.Buses, want)
	}
	ctx := ctxT(t)
	for name, err := range map[string]error{
		"connect":    r.nic.Connect(ctx),
		"disconnect": r.nic.Disconnect(ctx),
	} {
		if !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), "not supported by WIZNET5K") {
			t.Errorf("%s() = %v, want NotImplementedError saying not supported by WIZNET5K", name, err)
		}
	}
	if _, err := r.nic.Scan(ctx, nil); !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), "not supported by WIZNET5K") {
		t.Errorf("scan() = %v, want NotImplementedError", err)
	}
	if _, err := r.nic.Call(ctx, "poll"); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("poll() = %v, want NotImplementedError", err)
	}
}

func TestWiznet_BringUp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noRst bool
		log   string // what the simulator logs for the reset
	}{
		{"rst line", false, "RSTn released"},
		{"soft reset", true, "MR.RST: software reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			engines(t, func(t *testing.T, native bool) {
				r := newRig(t, rigConfig{native: native, noRst: tc.noRst})
				ctx := ctxT(t)
				if a, _ := r.nic.Active(ctx); a {
					t.Fatal("active() before active(True)")
				}
				// The chip powers up with its PHY linked: "link, interface
				// inactive".
				if got := r.status(t); got != driver.StatusLinkNoIf {
					t.Fatalf("status() before active(True) = %d, want 1", got)
				}
				if c, _ := r.nic.IsConnected(ctx); c {
					t.Fatal("isconnected() while inactive")
				}

				r.up(t)
				if !strings.Contains(r.Log.String(), tc.log) {
					t.Fatalf("the simulator did not log %q: no reset", tc.log)
				}
				if got := r.status(t); got != driver.StatusLinkActive {
					t.Fatalf("status() with the link up = %d, want 2", got)
				}
				if st := r.nic.LinkState(); !st.Up || st.Type != host.LinkEthernet || st.MTU != 1500 {
					t.Fatalf("link state %+v, want up, Ethernet, MTU 1500", st)
				}
				regs := r.regs(t)
				for k, want := range map[string]int64{
					"versionr": 0x04, "rtr": 0x07d0, "s0_sr": 0x42, "s0_mr": 0x84,
					"s0_rxbuf_size": 16, "s0_txbuf_size": 16, "s0_tx_fsr": 16384, "s0_imr": 0x04,
				} {
					if regs[k] != want {
						t.Errorf("regs()[%q] = %#x, want %#x", k, regs[k], want)
					}
				}
				if !bytes.Equal(regs["shar"].([]byte), r.nic.MAC()) {
					t.Errorf("SHAR % x, want the host's MAC % x", regs["shar"], r.nic.MAC())
				}

				if err := r.nic.SetActive(ctx, false); err != nil {
					t.Fatal(err)
				}
				if r.nic.LinkState().Up {
					t.Fatal("link state up after active(False)")
				}
				if c, _ := r.nic.IsConnected(ctx); c {
					t.Fatal("isconnected() after active(False)")
				}
				if got := r.status(t); got != driver.StatusLinkNoIf {
					t.Fatalf("status() after active(False) = %d, want 1 (the PHY keeps its link)", got)
				}
				if sr := r.regs(t)["s0_sr"]; sr != int64(0) {
					t.Fatalf("S0_SR = %#x after active(False), want 0 (closed)", sr)
				}
				if err := hosttest.Transmit(r.nic, frame(peerMAC, 1, 60)); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the frame refused while inactive", func() bool {
					return r.nic.Stats().Drops["the driver refused it"] == 1
				})
				// And up again: a second reset and bring-up.
				r.up(t)
			})
		})
	}
}

// zeroDev is an SPI device that drives MISO low: a bus with no chip and a
// pull-down, or a chip without power.
type zeroDev struct{}

func (zeroDev) Select()              {}
func (zeroDev) Deselect()            {}
func (zeroDev) Transfer(_, r []byte) { clear(r) }

// floatDev leaves MISO alone: SimSPI reads an undriven line as 0xFF.
type floatDev struct{}

func (floatDev) Select()              {}
func (floatDev) Deselect()            {}
func (floatDev) Transfer(_, _ []byte) {}

// otherDev answers 0x51 to everything: some other chip.
type otherDev struct{}

func (otherDev) Select()   {}
func (otherDev) Deselect() {}
func (otherDev) Transfer(_, r []byte) {
	for i := range r {
		r[i] = 0x51
	}
}

func TestWiznet_NoChip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rc    rigConfig
		errno syscall.Errno
		msg   string
	}{
		{"MISO low, soft reset", rigConfig{dev: zeroDev{}, noRst: true}, syscall.ETIMEDOUT, "no W5500 answers on the SPI bus (VERSIONR read 0x00"},
		{"MISO floating, rst line", rigConfig{dev: floatDev{}}, syscall.ETIMEDOUT, "no W5500 answers on the SPI bus (VERSIONR read 0xff"},
		{"another chip", rigConfig{dev: otherDev{}, native: true}, syscall.ENODEV, "not a W5500 (VERSIONR read 0x51"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.rc)
			ctx := ctxT(t)
			err := r.nic.SetActive(ctx, true)
			if !errors.Is(err, tc.errno) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("active(True) = %v, want OSError %v saying %q", err, tc.errno, tc.msg)
			}
			t.Logf("active(True): %v", err)
			if a, _ := r.nic.Active(ctx); a {
				t.Fatal("active() after a failed active(True)")
			}
			if got := r.status(t); got != driver.StatusLinkDown {
				t.Fatalf("status() = %d, want 0", got)
			}
			if _, err := r.nic.Call(ctx, "regs"); !errors.Is(err, syscall.ETIMEDOUT) {
				t.Fatalf("regs() = %v, want OSError ETIMEDOUT", err)
			}
		})
	}
}

// TestWiznet_Frames moves frames both ways, enough of them to wrap both
// 16 KiB buffers twice, in every mode.
func TestWiznet_Frames(t *testing.T) {
	modes(t, func(t *testing.T, rc rigConfig) {
		r := newRig(t, rc)
		r.up(t)
		mac := r.nic.MAC()

		// The MAC filter: ours, broadcast, multicast; not another station's.
		other := []byte{0x02, 0x99, 0, 0, 0, 9}
		bcast := bytes.Repeat([]byte{0xff}, 6)
		mcast := []byte{0x33, 0x33, 0, 0, 0, 1}
		// Frame 5, ours, marks the end: frames arrive in order, so once it is
		// in, every frame the filter let through is in too.
		for i, dst := range [][]byte{mac, other, bcast, mcast, mac} {
			r.peer.WriteFrame(frame(dst, i+1, 60))
		}
		eventually(t, "the last frame in the core", func() bool {
			f := r.link.Frames()
			return len(f) > 0 && seqOf(f[len(f)-1]) == 5
		})
		var seqs []int
		for _, f := range r.link.Frames() {
			seqs = append(seqs, seqOf(f))
		}
		if !slices.Equal(seqs, []int{1, 3, 4, 5}) {
			t.Fatalf("core got frames %v, want 1 (ours), 3 (broadcast), 4 (multicast), 5 (ours)", seqs)
		}

		// 40 frames of 1000 bytes in groups of 8 (each group fits the RX
		// buffer): 40 KB through 16 KiB, so records straddle the end.
		const n, size, group = 40, 1000, 8
		base := r.link.Count()
		for i := 0; i < n; i += group {
			for j := i; j < i+group; j++ {
				if err := r.peer.WriteFrame(frame(mac, 100+j, size)); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "a group of frames in the core", func() bool { return r.link.Count() >= base+i+group })
		}
		got := r.link.Frames()[base:]
		for i, f := range got {
			if want := frame(mac, 100+i, size); !bytes.Equal(f, want) {
				t.Fatalf("received frame %d: %d bytes, seq %d; want %d bytes, seq %d", i, len(f), seqOf(f), size, 100+i)
			}
		}
		if d := r.chip.Stats().RxDropped; d != 0 {
			t.Fatalf("the chip dropped %d frames", d)
		}

		// 40 frames out, queued at once: the TX buffer wraps too.
		for i := range n {
			if err := hosttest.Transmit(r.nic, frame(peerMAC, 200+i, size)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if f := r.readPeer(t); !bytes.Equal(f, frame(peerMAC, 200+i, size)) {
				t.Fatalf("peer frame %d: %d bytes, seq %d; want seq %d", i, len(f), seqOf(f), 200+i)
			}
		}
		// A short frame (an ARP request is 42 bytes): the chip pads it.
		short := frame(peerMAC, 300, 42)
		hosttest.Transmit(r.nic, short)
		if f := r.readPeer(t); len(f) != 60 || !bytes.Equal(f[:42], short) {
			t.Fatalf("peer got % x for a 42-byte frame", f)
		}
		// In: the n frames, and 1, 3, 4 and 5 of the filter check.
		if s := r.nic.Stats(); s.TxFrames != n+1 || s.RxFrames != n+4 {
			t.Fatalf("NIC stats %+v, want %d out, %d in", s, n+1, n+4)
		}
		if rc.noIRQ {
			if v := r.regs(t)["simr"]; v != int64(0) {
				t.Fatalf("SIMR = %v while polling, want 0", v)
			}
		} else {
			if v := r.regs(t)["simr"]; v != int64(1) {
				t.Fatalf("SIMR = %v with the interrupt line, want 1", v)
			}
			if r.chip.INT().Edges() == 0 {
				t.Fatal("no INTn edge seen in interrupt mode")
			}
		}
	})
}

func TestWiznet_Cable(t *testing.T) {
	modes(t, func(t *testing.T, rc rigConfig) {
		r := newRig(t, rc)
		r.up(t)
		mac := r.nic.MAC()

		r.chip.SetLink(false)
		r.waitLink(t, false)
		if got := r.status(t); got != driver.StatusLinkDown {
			t.Fatalf("status() unplugged = %d, want 0", got)
		}
		if err := hosttest.Transmit(r.nic, frame(peerMAC, 1, 60)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the frame refused while unplugged", func() bool {
			return r.nic.Stats().Drops["the driver refused it"] == 1
		})
		r.peer.WriteFrame(frame(mac, 2, 60)) // lost on the wire: the link is down
		eventually(t, "the chip to drop the frame", func() bool {
			return strings.Contains(r.Log.String(), "frame lost: link down")
		})

		r.chip.SetLink(true)
		r.waitLink(t, true)
		r.peer.WriteFrame(frame(mac, 3, 60))
		eventually(t, "a frame after the replug", func() bool { return r.link.Count() > 0 })
		if got := r.link.Frames(); len(got) != 1 || seqOf(got[0]) != 3 {
			t.Fatalf("core got %d frames, want only frame 3", len(got))
		}
		out := frame(peerMAC, 4, 60)
		hosttest.Transmit(r.nic, out)
		if got := r.readPeer(t); !bytes.Equal(got, out) {
			t.Fatalf("peer got % x after the replug", got)
		}
		if got, want := r.link.Ups(), []bool{false, true, false, true}; !slices.Equal(got, want) {
			t.Fatalf("link states %v, want %v", got, want)
		}
	})
}

// TestWiznet_MissedEdges grants an interrupt line that never moves: the
// driver's safety poll still moves the frames.
func TestWiznet_MissedEdges(t *testing.T) {
	r := newRig(t, rigConfig{deadIRQ: true, options: map[string]any{"poll_ms": 10}})
	r.up(t)
	r.peer.WriteFrame(frame(r.nic.MAC(), 1, 100))
	eventually(t, "the frame through the safety poll", func() bool { return r.link.Count() == 1 })
}

// TestWiznet_TornCounter makes a frame arrive while the driver reads
// S0_RX_RSR, so that it reads the old high byte with the new low byte.
func TestWiznet_TornCounter(t *testing.T) {
	modes(t, func(t *testing.T, rc rigConfig) {
		r := newRig(t, rc)
		r.up(t)
		if err := r.nic.SetConfig(ctxT(t), host.KW{"trace": int64(guest.TraceEvents)}); err != nil {
			t.Fatal(err)
		}
		r.chip.TearNextCounterRead()
		want := frame(r.nic.MAC(), 7, 600) // RX_RSR goes from 0x0000 to 0x025a
		r.peer.WriteFrame(want)
		eventually(t, "the frame", func() bool { return r.link.Count() == 1 })
		if got := r.link.Frames()[0]; !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes, seq %d", len(got), seqOf(got))
		}
		if !strings.Contains(r.Log.String(), "does not add up") {
			t.Fatal("the driver did not notice the torn read")
		}
	})
}

// partialDev shows, once, socket 0's pointer burst as if the chip had
// stored only part of the last record (RX_RSR and RX_WR 0x80 lower), as
// seen on real chips under load.
type partialDev struct {
	sim.SPIDevice
	n    int
	hdr  [3]byte
	hits int
}

func (p *partialDev) Select() { p.n = 0; p.SPIDevice.Select() }

func (p *partialDev) Transfer(w, r []byte) {
	p.SPIDevice.Transfer(w, r)
	start := p.n
	for i := range w {
		if start+i < 3 {
			p.hdr[start+i] = w[i]
		}
	}
	p.n += len(w)
	// The driver's status read: socket 0 from Sn_TX_RD (0x22) to Sn_RX_WR,
	// with its header in the same packet or the one before.
	isStatus := p.hdr == [3]byte{0x00, 0x22, 0x01 << 3}
	if start <= 3 && len(r) >= 3-start {
		r = r[3-start:]
	}
	if !isStatus || start > 3 || len(r) < 10 || p.hits > 0 {
		return
	}
	rsr := uint16(r[4])<<8 | uint16(r[5])
	wr := uint16(r[8])<<8 | uint16(r[9])
	if rsr < 0x100 {
		return
	}
	rsr, wr = rsr-0x80, wr-0x80
	r[4], r[5], r[8], r[9] = byte(rsr>>8), byte(rsr), byte(wr>>8), byte(wr)
	p.hits++
}

func TestWiznet_PartialRecord(t *testing.T) {
	var dev *partialDev
	r := newRig(t, rigConfig{noIRQ: true, native: true, wrap: func(d sim.SPIDevice) sim.SPIDevice {
		dev = &partialDev{SPIDevice: d}
		return dev
	}})
	r.up(t)
	want := frame(r.nic.MAC(), 9, 600)
	r.peer.WriteFrame(want)
	eventually(t, "the frame", func() bool { return r.link.Count() >= 1 })
	// A second frame marks the end: a duplicate of the first, had the
	// partial record been read twice, would arrive before it.
	marker := frame(r.nic.MAC(), 10, 60)
	r.peer.WriteFrame(marker)
	eventually(t, "the marker frame", func() bool {
		f := r.link.Frames()
		return len(f) > 0 && bytes.Equal(f[len(f)-1], marker)
	})
	if got := r.link.Frames(); len(got) != 2 || !bytes.Equal(got[0], want) {
		t.Fatalf("got %d frames, want the frame once and the marker", len(got))
	}
	if dev.hits != 1 {
		t.Fatalf("the partial record was shown %d times, want 1", dev.hits)
	}
}

// TestWiznet_Recover resets the chip behind the driver's back (MR.RST from
// another SPI master): the driver notices its pointers no longer add up,
// resets and reconfigures the chip, and frames move again.
func TestWiznet_Recover(t *testing.T) {
	r := newRig(t, rigConfig{noIRQ: true})
	r.up(t)
	mac := r.nic.MAC()
	r.peer.WriteFrame(frame(mac, 1, 100))
	eventually(t, "a first frame", func() bool { return r.link.Count() == 1 })
	if err := r.spi.Tx([]byte{0x00, 0x00, 0x04, 0x80}, nil); err != nil { // MR <- RST
		t.Fatal(err)
	}
	eventually(t, "the driver to recover", func() bool {
		return strings.Contains(r.Log.String(), "resetting the chip to recover") && r.regs(t)["s0_sr"] == int64(0x42)
	})
	r.waitLink(t, true)
	r.peer.WriteFrame(frame(mac, 2, 100))
	eventually(t, "a frame after the recovery", func() bool { return r.link.Count() == 2 })
	out := frame(peerMAC, 3, 100)
	hosttest.Transmit(r.nic, out)
	if got := r.readPeer(t); !bytes.Equal(got, out) {
		t.Fatalf("peer got % x", got)
	}
}

func TestWiznet_Config(t *testing.T) {
	r := newRig(t, rigConfig{})
	ctx := ctxT(t)
	if v, err := r.nic.Config(ctx, "mac"); err != nil || !bytes.Equal(v.([]byte), r.nic.MAC()) {
		t.Fatalf("config('mac') = % x, %v; want the host's % x", v, err, r.nic.MAC())
	}
	r.up(t)
	newMAC := []byte{0x02, 0x12, 0x34, 0x56, 0x78, 0x9a}
	if err := r.nic.SetConfig(ctx, host.KW{"mac": newMAC}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.nic.Config(ctx, "mac"); !bytes.Equal(v.([]byte), newMAC) || !bytes.Equal(r.nic.MAC(), newMAC) {
		t.Fatalf("after config(mac=...): driver % x, host % x", v, r.nic.MAC())
	}
	if shar := r.regs(t)["shar"]; !bytes.Equal(shar.([]byte), newMAC) {
		t.Fatalf("SHAR % x after config(mac=...) while active", shar)
	}
	// The MAC filter follows SHAR.
	r.peer.WriteFrame(frame(newMAC, 5, 60))
	eventually(t, "a frame to the new MAC", func() bool { return r.link.Count() == 1 })

	if err := r.nic.SetConfig(ctx, host.KW{"trace": int64(guest.TraceTx | guest.TraceRx)}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.nic.Config(ctx, "trace"); v != int64(6) {
		t.Fatalf("config('trace') = %v, want 6", v)
	}
	hosttest.Transmit(r.nic, frame(peerMAC, 6, 60))
	r.readPeer(t)
	// The driver logs the frame after the SPI call that sent it: the peer
	// may have it first.
	eventually(t, "a trace line for the sent frame", func() bool { return strings.Contains(r.Log.String(), "w5500: tx 60 bytes") })

	for _, tc := range []struct {
		name string
		kw   host.KW
		want error
		msg  string // the error names this
	}{
		{"5-byte MAC (the host checks)", host.KW{"mac": []byte{1, 2, 3, 4, 5}}, abi.ErrValue, "mac"},
		{"MAC not bytes", host.KW{"mac": int64(1)}, abi.ErrType, "mac"},
		{"unknown parameter", host.KW{"speed": int64(100)}, abi.ErrValue, "speed"},
		{"trace not an int", host.KW{"trace": true}, abi.ErrType, "trace"},
		{"negative trace", host.KW{"trace": int64(-1)}, abi.ErrValue, "trace"},
		{"a bad key stops the good ones", host.KW{"mac": []byte{2, 0, 0, 0, 0, 7}, "zzz": int64(1)}, abi.ErrValue, "zzz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.nic.SetConfig(ctx, tc.kw)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("config(%v) = %v, want %v naming %q", tc.kw, err, tc.want, tc.msg)
			}
		})
	}
	if v, _ := r.nic.Config(ctx, "mac"); !bytes.Equal(v.([]byte), newMAC) {
		t.Fatal("a refused config() changed the MAC")
	}
	if _, err := r.nic.Config(ctx, "speed"); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "speed") {
		t.Fatalf("config('speed') = %v, want a ValueError naming it", err)
	}
	if _, err := r.nic.StatusParam(ctx, "rssi"); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("status('rssi') = %v, want ValueError", err)
	}
}

func TestWiznet_Options(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]any
		msg  string
	}{
		{"poll_ms out of range", map[string]any{"poll_ms": 0}, "options.poll_ms: 0 out of range"},
		{"poll_ms not an int", map[string]any{"poll_ms": "5"}, "options.poll_ms: expected int"},
		{"unknown option", map[string]any{"speed": 100}, `unknown option "speed"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newHost(t, rigConfig{options: tc.opts})
			if err := r.load(t); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("load = %v, want an error saying %q", err, tc.msg)
			}
		})
	}
}

func TestWiznet_Regs(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.up(t)
	regs := r.regs(t)
	want := []string{"mr", "gar", "subr", "shar", "sipr", "intlevel", "ir", "imr", "sir", "simr", "rtr", "rcr", "ptimer", "phycfgr", "versionr",
		"s0_mr", "s0_cr", "s0_ir", "s0_sr", "s0_rxbuf_size", "s0_txbuf_size", "s0_tx_fsr", "s0_tx_rd", "s0_tx_wr", "s0_rx_rsr", "s0_rx_rd", "s0_rx_wr", "s0_imr"}
	keys := make([]string, 0, len(regs))
	for k := range regs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("regs() keys %v, want %v", keys, want)
	}
	if v := regs["phycfgr"].(int64); v&0xB8 != 0xB8 || v&0x07 != 0x07 {
		t.Fatalf("PHYCFGR = %#02x, want 0xB8 with link, 100 Mb/s, full duplex", v)
	}
	if _, err := r.nic.Call(ctxT(t), "regs", 1); !errors.Is(err, abi.ErrType) {
		t.Fatalf("regs(1) = %v, want TypeError", err)
	}
}
