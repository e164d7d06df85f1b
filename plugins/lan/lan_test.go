//go:build !wasip1

package main_test

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/plugins/lan/phy"
)

func TestLAN_Describe(t *testing.T) {
	r := newRig(t, rigConfig{phyAddr: 1})
	d := r.nic.Plugin().Description()
	if d.Class != abi.ClassLAN || d.Name != "lan" || !slices.Equal(d.Interfaces, []string{"eth"}) {
		t.Fatalf("description %+v", d)
	}
	want := []abi.BusNeed{{Name: "port", Kind: "frame"}, {Name: "mdio", Kind: "mdio"}}
	if !slices.Equal(d.Buses, want) {
		t.Fatalf("buses %+v, want %+v (both required)", d.Buses, want)
	}
	ctx := ctxT(t)
	if err := r.nic.Connect(ctx); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("connect() = %v, want NotImplementedError", err)
	}
	if err := r.nic.Disconnect(ctx); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("disconnect() = %v, want NotImplementedError", err)
	}
	if _, err := r.nic.Scan(ctx, nil); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("scan() = %v, want NotImplementedError", err)
	}
	if _, err := r.nic.Call(ctx, "poll"); !errors.Is(err, abi.ErrUnsupported) {
		t.Errorf("poll() = %v, want NotImplementedError", err)
	}
}

func TestLAN_BringUp(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newRig(t, rigConfig{phyAddr: 1, native: b.native, source: b.source})
		ctx := ctxT(t)
		if a, _ := r.nic.Active(ctx); a {
			t.Fatal("active() before active(True)")
		}
		// The PHY negotiates on its own from power-on: status() 1 is
		// "link, interface inactive".
		eventually(t, "status() 1 from the PHY's own link", func() bool { return r.status(t) == driver.StatusLinkNoIf })
		if c, _ := r.nic.IsConnected(ctx); c {
			t.Fatal("isconnected() while inactive")
		}

		if err := r.nic.SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
		if r.phy.Resets() != 1 {
			t.Fatalf("active(True) made %d PHY resets, want 1", r.phy.Resets())
		}
		if got := r.status(t); got != driver.StatusLinkDown {
			t.Fatalf("status() right after active(True) = %d, want 0 (negotiating)", got)
		}
		r.waitLink(t, true)
		if got := r.status(t); got != driver.StatusLinkActive {
			t.Fatalf("status() with the link up = %d, want 2", got)
		}
		if st := r.nic.LinkState(); !st.Up || st.Type != host.LinkEthernet || st.MTU != 1500 {
			t.Fatalf("link state %+v, want up, Ethernet, MTU 1500", st)
		}
		if bmcr := r.phy.Peek(phy.RegBMCR); bmcr&phy.BMCRANEnable == 0 || bmcr&phy.BMCRPowerDown != 0 {
			t.Fatalf("BMCR = %#04x, want auto-negotiation on, powered up", bmcr)
		}
		if v, err := r.nic.Config(ctx, "phy_addr"); err != nil || v != int64(1) {
			t.Fatalf("config('phy_addr') = %v, %v; want 1 (found by scanning)", v, err)
		}
		if !strings.Contains(r.Log.String(), "link up, 100 Mb/s full duplex") {
			t.Errorf("log lacks the resolved mode")
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
		if !r.phy.Link() || r.phy.Peek(phy.RegBMCR)&phy.BMCRPowerDown != 0 {
			t.Fatal("active(False) touched the PHY")
		}
		if err := hosttest.Transmit(r.nic, frame(make([]byte, 6), 1)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the frame refused while inactive", func() bool {
			return r.nic.Stats().Drops["the driver refused it"] == 1
		})
	})
}

func TestLAN_Frames(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newRig(t, rigConfig{phyAddr: 1, native: b.native, source: b.source})
		r.up(t)
		ctx := ctxT(t)
		if err := r.nic.SetConfig(ctx, host.KW{"trace": int64(guest.TraceTx | guest.TraceRx)}); err != nil {
			t.Fatal(err)
		}
		mac := r.nic.MAC()
		other := []byte{0x02, 0x99, 0, 0, 0, 9}
		bcast := bytes.Repeat([]byte{0xff}, 6)
		mcast := []byte{0x33, 0x33, 0, 0, 0, 1}
		for i, dst := range [][]byte{mac, other, bcast, mcast} {
			if err := r.wire.WriteFrame(frame(dst, byte(i+1))); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "three frames in the core", func() bool { return len(r.link.Frames()) >= 3 })
		if got := markers(r.link.Frames()); !bytes.Equal(got, []byte{1, 3, 4}) {
			t.Fatalf("core got frames %v, want 1 (ours), 3 (broadcast), 4 (multicast); 2 is for another MAC", got)
		}
		if got := r.link.Frames()[0]; !bytes.Equal(got, frame(mac, 1)) {
			t.Fatalf("core got % x", got)
		}

		out := frame(other, 7)
		if err := hosttest.Transmit(r.nic, out); err != nil {
			t.Fatal(err)
		}
		if got := r.readWire(t); !bytes.Equal(got, out) {
			t.Fatalf("peer got % x, want % x", got, out)
		}
		if s := r.nic.Stats(); s.TxFrames != 1 || s.RxFrames != 3 {
			t.Fatalf("NIC stats %+v", s)
		}
		if l := r.Log.String(); !strings.Contains(l, "lan: tx 60 bytes") || !strings.Contains(l, "lan: rx 60 bytes") {
			t.Fatalf("trace lines missing from the log")
		}
	})
}

// Frames queued together reach the wire in order: the host hands them to
// the driver in batches (nic_transmit_batch), each frame one frame_write.
func TestLAN_TransmitBatch(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newRig(t, rigConfig{phyAddr: 1, native: b.native, source: b.source})
		r.up(t)
		other := []byte{0x02, 0x99, 0, 0, 0, 9}
		const n = 100
		for i := range n {
			if err := hosttest.Transmit(r.nic, frame(other, byte(i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if got := r.readWire(t); !bytes.Equal(got, frame(other, byte(i))) {
				t.Fatalf("frame %d on the wire: % x", i, got)
			}
		}
		if s := r.nic.Stats(); s.TxFrames != n || len(s.Drops) != 0 {
			t.Fatalf("NIC stats %+v, want %d frames sent and none dropped", s, n)
		}
	})
}

func TestLAN_Cable(t *testing.T) {
	builds(t, func(t *testing.T, b build) {
		r := newRig(t, rigConfig{phyAddr: 1, native: b.native, source: b.source})
		r.up(t)
		mac := r.nic.MAC()

		r.phy.SetLink(false)
		r.waitLink(t, false)
		if got := r.status(t); got != driver.StatusLinkDown {
			t.Fatalf("status() unplugged = %d, want 0", got)
		}
		// While the link is down, frames go nowhere in either direction.
		if err := hosttest.Transmit(r.nic, frame(mac, 1)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the frame refused while unplugged", func() bool {
			return r.nic.Stats().Drops["the driver refused it"] == 1
		})
		r.wire.WriteFrame(frame(mac, 2))
		eventually(t, "the driver to drain the port", func() bool { return r.port.Stats().RxFrames == 1 })

		r.phy.SetLink(true)
		r.waitLink(t, true)
		r.wire.WriteFrame(frame(mac, 3))
		eventually(t, "a frame after the replug", func() bool { return len(r.link.Frames()) > 0 })
		if got := markers(r.link.Frames()); !bytes.Equal(got, []byte{3}) {
			t.Fatalf("core got frames %v, want only 3 (2 arrived while unplugged)", got)
		}
		out := frame(mac, 4)
		hosttest.Transmit(r.nic, out)
		if got := r.readWire(t); !bytes.Equal(got, out) {
			t.Fatalf("peer got % x after the replug", got)
		}
		if got, want := r.link.Ups(), []bool{false, true, false, true}; !slices.Equal(got, want) {
			t.Fatalf("link states %v, want %v", got, want)
		}
	})
}

// TestLAN_LinkBlip checks that a drop shorter than the driver's poll
// interval is reported, through BMSR's latching-low link bit: the PHY
// renegotiates in 1 µs, so only the latch shows the drop.
func TestLAN_LinkBlip(t *testing.T) {
	r := newRig(t, rigConfig{phyAddr: 1, anTime: time.Microsecond})
	r.up(t)
	r.phy.SetLink(false)
	r.phy.SetLink(true)
	eventually(t, "the blip reported as down then up", func() bool {
		return slices.Equal(r.link.Ups(), []bool{false, true, false, true})
	})
	if !r.nic.LinkState().Up {
		t.Fatal("link state down after the blip")
	}
}

func TestLAN_LowPower(t *testing.T) {
	r := newRig(t, rigConfig{phyAddr: 1})
	ctx := ctxT(t)
	r.up(t)

	if err := r.nic.SetConfig(ctx, host.KW{"low_power": true}); err != nil {
		t.Fatal(err)
	}
	if r.phy.Peek(phy.RegBMCR)&phy.BMCRPowerDown == 0 {
		t.Fatal("config(low_power=True) did not power the PHY down")
	}
	r.waitLink(t, false)
	if got := r.status(t); got != driver.StatusLinkDown {
		t.Fatalf("status() in low power = %d, want 0", got)
	}
	if v, err := r.nic.Config(ctx, "low_power"); err != nil || v != true {
		t.Fatalf("config('low_power') = %v, %v", v, err)
	}
	if err := r.nic.SetConfig(ctx, host.KW{"low_power": false}); err != nil {
		t.Fatal(err)
	}
	r.waitLink(t, true)

	// Set before active(True), low_power survives the reset.
	if err := r.nic.SetActive(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := r.nic.SetConfig(ctx, host.KW{"low_power": true}); err != nil {
		t.Fatal(err)
	}
	if err := r.nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the PHY reset and powered down", func() bool {
		return r.phy.Resets() == 2 && r.phy.Peek(phy.RegBMCR)&(phy.BMCRPowerDown|phy.BMCRReset) == phy.BMCRPowerDown
	})
	if c, _ := r.nic.IsConnected(ctx); c {
		t.Fatal("connected in low power")
	}
	if err := r.nic.SetConfig(ctx, host.KW{"low_power": false}); err != nil {
		t.Fatal(err)
	}
	r.waitLink(t, true)
}

func TestLAN_Config(t *testing.T) {
	r := newRig(t, rigConfig{phyAddr: 1})
	ctx := ctxT(t)
	if v, err := r.nic.Config(ctx, "mac"); err != nil || !bytes.Equal(v.([]byte), r.nic.MAC()) {
		t.Fatalf("config('mac') = % x, %v; want the host's % x", v, err, r.nic.MAC())
	}
	newMAC := []byte{0x02, 0x12, 0x34, 0x56, 0x78, 0x9a}
	if err := r.nic.SetConfig(ctx, host.KW{"mac": newMAC}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.nic.Config(ctx, "mac"); !bytes.Equal(v.([]byte), newMAC) || !bytes.Equal(r.nic.MAC(), newMAC) {
		t.Fatalf("after config(mac=...): driver % x, host % x", v, r.nic.MAC())
	}
	if v, _ := r.nic.Config(ctx, "phy_type"); v != "LAN8720" {
		t.Fatalf("config('phy_type') = %v", v)
	}

	for _, tc := range []struct {
		name string
		kw   host.KW
		want error
		msg  string // the error names this
	}{
		{"5-byte MAC (the host checks)", host.KW{"mac": []byte{1, 2, 3, 4, 5}}, abi.ErrValue, "mac"},
		{"unknown parameter", host.KW{"speed": int64(100)}, abi.ErrValue, "speed"},
		{"read-only phy_addr", host.KW{"phy_addr": int64(2)}, abi.ErrValue, "phy_addr"},
		{"read-only phy_type", host.KW{"phy_type": "IP101"}, abi.ErrValue, "phy_type"},
		{"low_power not a bool", host.KW{"low_power": "yes"}, abi.ErrType, "low_power"},
		{"trace not an int", host.KW{"trace": true}, abi.ErrType, "trace"},
		{"negative trace", host.KW{"trace": int64(-1)}, abi.ErrValue, "trace"},
		{"unknown trace bit", host.KW{"trace": int64(16)}, abi.ErrValue, "trace"},
		{"a bad key stops the good ones", host.KW{"low_power": true, "zzz": int64(1)}, abi.ErrValue, "zzz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.nic.SetConfig(ctx, tc.kw)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("config(%v) = %v, want %v naming %q", tc.kw, err, tc.want, tc.msg)
			}
		})
	}
	if v, _ := r.nic.Config(ctx, "low_power"); v != false {
		t.Fatal("a refused config() changed low_power")
	}
	if _, err := r.nic.Config(ctx, "speed"); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "speed") {
		t.Fatalf("config('speed') = %v, want a ValueError naming it", err)
	}
	if _, err := r.nic.StatusParam(ctx, "rssi"); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("status('rssi') = %v, want ValueError", err)
	}
}

// idPHY is a PHY that has only an identifier, such as a TI DP83848's
// 2000:5c90, which the driver does not support.
type idPHY [2]uint16

func (p idPHY) ReadReg(reg uint8) uint16 {
	switch reg {
	case 2:
		return p[0]
	case 3:
		return p[1]
	}
	return 0
}
func (idPHY) WriteReg(uint8, uint16) {}

func TestLAN_NoPHY(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rc    rigConfig
		errno syscall.Errno
		msg   string
	}{
		{"empty bus", rigConfig{noPHY: true}, syscall.ETIMEDOUT, "no PHY answers on the MDIO bus"},
		{"an unsupported PHY", rigConfig{phyAddr: 1, dev: idPHY{0x2000, 0x5c90}}, syscall.ENODEV,
			"the PHY at MDIO address 1 has ID 2000:5c90, not a PHY this driver supports (LAN8720 0007:c0fX, KSZ8081 0022:156X)"},
		{"a KSZ8081 where a LAN8720 was asked for", rigConfig{phyAddr: 1, dev: idPHY{0x0022, 0x1561}, options: map[string]any{"phy_type": "LAN8720"}},
			syscall.ENODEV, "the PHY at MDIO address 1 has ID 0022:1561, a KSZ8081, not a LAN8720 (0007:c0fX); check options.phy_type and options.phy_addr"},
		{"nothing at phy_addr", rigConfig{phyAddr: 1, options: map[string]any{"phy_addr": 5}}, syscall.ETIMEDOUT, "MDIO address 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.rc)
			ctx := ctxT(t)
			err := r.nic.SetActive(ctx, true)
			if !errors.Is(err, tc.errno) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("active(True) = %v, want OSError %v saying %q", err, tc.errno, tc.msg)
			}
			if a, _ := r.nic.Active(ctx); a {
				t.Fatal("active() after a failed active(True)")
			}
			if got := r.status(t); got != driver.StatusLinkDown {
				t.Fatalf("status() = %d, want 0", got)
			}
			if _, err := r.nic.Call(ctx, "regs"); !errors.Is(err, tc.errno) {
				t.Fatalf("regs() = %v, want the same OSError", err)
			}
			if v, err := r.nic.Config(ctx, "phy_addr"); err != nil || (v != nil && v != int64(5)) {
				t.Fatalf("config('phy_addr') = %v, %v; want None (or the option)", v, err)
			}
		})
	}
}

func TestLAN_Options(t *testing.T) {
	t.Run("phy_addr and phy_type", func(t *testing.T) {
		r := newRig(t, rigConfig{phyAddr: 3, options: map[string]any{"phy_addr": 3, "phy_type": "lan8710a"}})
		r.up(t)
		if v, _ := r.nic.Config(ctxT(t), "phy_type"); v != "LAN8710A" {
			t.Fatalf("config('phy_type') = %v", v)
		}
	})
	t.Run("scan finds address 3", func(t *testing.T) {
		r := newRig(t, rigConfig{phyAddr: 3})
		r.up(t)
		if v, _ := r.nic.Config(ctxT(t), "phy_addr"); v != int64(3) {
			t.Fatalf("config('phy_addr') = %v, want 3", v)
		}
	})
	for _, tc := range []struct {
		name string
		opts map[string]any
		msg  string
	}{
		{"unsupported phy_type", map[string]any{"phy_type": "DP83848"},
			`options.phy_type: "DP83848" is not supported by this driver (supported: LAN8720, LAN8720A, LAN8710, LAN8710A, KSZ8081)`},
		{"phy_addr out of range", map[string]any{"phy_addr": 32}, "options.phy_addr: 32 is not an MDIO address"},
		{"phy_addr not an int", map[string]any{"phy_addr": "1"}, "options.phy_addr: expected int"},
		{"unknown option", map[string]any{"ref_clk": 1}, `unknown option "ref_clk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newHost(t, rigConfig{phyAddr: 1, options: tc.opts})
			err := r.load(t)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("load = %v, want an error saying %q", err, tc.msg)
			}
		})
	}
}

func TestLAN_Regs(t *testing.T) {
	r := newRig(t, rigConfig{phyAddr: 1})
	r.up(t)
	checkRegs(t, r, []string{"bmcr", "bmsr", "phyid1", "phyid2", "anar", "anlpar", "aner",
		"mcsr", "smr", "19", "20", "21", "22", "23", "24", "25", "secr", "csir", "28", "isr", "imr", "pscsr"},
		[]regField{
			{"phyid1", 0xffff, 0x0007},
			{"phyid2", 0xfff0, 0xc0f0},
			{"bmsr", 0x0024, 0x0024}, // link and AN complete
			{"anar", 0xffff, 0x01e1},
			{"anlpar", 0x4000, 0x4000}, // the partner's page was acknowledged
			{"smr", 0x001f, 1},
			{"pscsr", 0x101c, 0x1018}, // AUTODONE, 100BASE-TX full duplex
		})
	if _, err := r.nic.Call(ctxT(t), "regs", 1); !errors.Is(err, abi.ErrType) {
		t.Fatalf("regs(1) = %v, want TypeError", err)
	}
}

// regField is a regs() entry a test checks: its value under mask.
type regField struct {
	key        string
	mask, want int64
}

// checkRegs calls regs() on r's NIC and checks that it names exactly the
// registers keys, in any order, and that fields read as given.
func checkRegs(t *testing.T, r *rig, keys []string, fields []regField) {
	t.Helper()
	v, err := r.nic.Call(ctxT(t), "regs")
	if err != nil {
		t.Fatal(err)
	}
	regs := v.(map[string]any)
	got, want := slices.Sorted(maps.Keys(regs)), slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("regs() keys %v, want %v", got, want)
	}
	for _, f := range fields {
		if got := regs[f.key].(int64); got&f.mask != f.want {
			t.Errorf("regs()[%q] = %#04x, want %#04x under mask %#04x", f.key, got, f.want, f.mask)
		}
	}
}
