//go:build !wasip1

package main_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/plugins/wlan/wlandev"
)

const (
	eOPNOTSUPP = 95
	eNOTCONN   = 107
)

// isErr reports whether err is an *abi.Error of kind (and errno, if not
// 0) whose message contains part.
func isErr(err error, kind, errno int, part string) bool {
	var e *abi.Error
	return errors.As(err, &e) && e.Kind == kind && (errno == 0 || e.Errno == errno) && strings.Contains(err.Error(), part)
}

func TestWLAN_Describe(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	d := r.plug.Description()
	if d.Class != abi.ClassWLAN || d.Name != "cyw43439" || !slices.Equal(d.Interfaces, []string{"sta", "ap"}) {
		t.Fatalf("description %+v", d)
	}
	want := []abi.BusNeed{
		{Name: "spi", Kind: "spi"}, {Name: "on", Kind: "gpio"}, {Name: "irq", Kind: "gpio", Optional: true},
		{Name: "firmware", Kind: "blob"}, {Name: "clm", Kind: "blob"}, {Name: "nvram", Kind: "blob", Optional: true},
	}
	if !slices.Equal(d.Buses, want) {
		t.Fatalf("buses %+v, want %+v", d.Buses, want)
	}
	if !slices.Contains(d.Features, "country") || !slices.Contains(d.Features, "phy_mode") {
		t.Fatalf("features %v, want country and phy_mode", d.Features)
	}
	// The access point starts inactive and leaves the station's methods
	// to the station (ap_test.go runs it).
	ctx := ctxT(t)
	nics := r.plug.NICs()
	if len(nics) != 2 {
		t.Fatalf("%d NICs, want 2", len(nics))
	}
	ap := nics[1]
	if a, err := ap.Active(ctx); a || err != nil {
		t.Errorf("ap.active() = %v, %v; want False", a, err)
	}
	if c, err := ap.IsConnected(ctx); c || err != nil {
		t.Errorf("ap.isconnected() = %v, %v", c, err)
	}
	if st, err := ap.Status(ctx); st != int64(0) || err != nil {
		t.Errorf("ap.status() = %v, %v; want 0", st, err)
	}
	if m, err := ap.Config(ctx, "mac"); err != nil || !bytes.Equal(m.([]byte), ap.MAC()) {
		t.Errorf("ap.config('mac') = %v, %v; want %v", m, err, ap.MAC())
	}
	if err := ap.Connect(ctx, "x", "12345678"); !isErr(err, abi.KindOSError, eOPNOTSUPP, "") {
		t.Errorf("ap.connect() = %v; want OSError EOPNOTSUPP", err)
	}
	// The station too stays inactive until asked.
	if a, _ := r.nic.Active(ctx); a {
		t.Error("sta.active() True after load")
	}
	if got := r.status(t); got != 0 {
		t.Errorf("status() after load = %d, want 0", got)
	}
	if r.dev.Chip.Powered() {
		t.Error("the chip is powered before active(True)")
	}
	if _, err := r.nic.Call(ctx, "regs"); !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), "WLAN has no method regs()") {
		t.Errorf("regs() = %v, want NotImplementedError", err)
	}
}

func TestWLAN_BringUp(t *testing.T) {
	engines(t, func(t *testing.T, native bool) {
		r := newRig(t, rigConfig{native: native})
		ctx := ctxT(t)
		r.up(t)
		if a, _ := r.nic.Active(ctx); !a {
			t.Fatal("active() False after active(True)")
		}
		eventually(t, "the firmware configured", func() bool { return r.dev.Chip.Country() != "" })
		if got := r.dev.Chip.Country(); got != "XX" {
			t.Errorf("the chip's country %q, want XX (network.country())", got)
		}
		if st := r.dev.Chip.Stats(); st.Boots != 1 || st.PowerUps != 1 {
			t.Errorf("chip stats %+v: want one power-up and one boot", st)
		}
		if !bytes.Equal(r.dev.Chip.Station().MAC(), r.nic.MAC()) {
			t.Errorf("the chip's station has MAC %v, want the host's %v", r.dev.Chip.Station().MAC(), r.nic.MAC())
		}
		if got := r.status(t); got != 0 {
			t.Errorf("status() active, not joined = %d, want 0", got)
		}
		if c, _ := r.nic.IsConnected(ctx); c {
			t.Error("isconnected() before a join")
		}
		if v, err := r.nic.StatusParam(ctx, "rssi"); !errors.Is(err, syscall.ENOTCONN) {
			t.Errorf("status('rssi') not joined = %v, %v; want OSError ENOTCONN", v, err)
		}
		if _, err := r.nic.StatusParam(ctx, "bogus"); !isErr(err, abi.KindValueError, 0, "bogus") {
			t.Errorf("status('bogus') = %v; want a ValueError naming it", err)
		}
		// The upload is spread over polls: many spi_transact calls, none
		// of them long (each poll writes at most 32 KiB).
		if calls := r.plug.Stats().SPICalls; calls < wlandev.FirmwareSize/(4<<10) {
			t.Errorf("%d spi_transact calls for the bring-up: the firmware goes in batches of at most 64 records", calls)
		}
		// active(True) again changes nothing.
		if err := r.nic.SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
		if st := r.dev.Chip.Stats(); st.PowerUps != 1 {
			t.Errorf("active(True) on an active station power-cycled the chip (%d power-ups)", st.PowerUps)
		}
		if err := r.nic.SetActive(ctx, false); err != nil {
			t.Fatal(err)
		}
		if a, _ := r.nic.Active(ctx); a {
			t.Error("active() True after active(False)")
		}
		if r.dev.Chip.Powered() {
			t.Error("the chip stays powered after active(False)")
		}
		if got := r.status(t); got != 0 {
			t.Errorf("status() after active(False) = %d, want 0", got)
		}
		// And up again: a second power cycle and boot.
		r.up(t)
		eventually(t, "a second boot", func() bool { return r.dev.Chip.Stats().Boots == 2 })
	})
}

// lyingBlob says it holds size bytes but holds only data: a file cut
// short after the host opened it.
type lyingBlob struct {
	data []byte
	size int64
}

func (b lyingBlob) Size() int64 { return b.size }

func (b lyingBlob) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestWLAN_BadBlobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    wlandev.Options
		want string
	}{
		{"firmware short", wlandev.Options{Firmware: make([]byte, 1000)}, "firmware blob: 1000 bytes, too short"},
		{"firmware empty", wlandev.Options{Firmware: []byte{}}, "firmware blob: 0 bytes, too short"},
		{"clm empty", wlandev.Options{CLM: []byte{}}, "clm blob: 0 bytes"},
		{"nvram empty", wlandev.Options{NVRAM: []byte{}}, "nvram blob: 0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigConfig{native: true, dev: tc.o})
			ctx := ctxT(t)
			err := r.nic.SetActive(ctx, true)
			if !isErr(err, abi.KindOSError, int(abi.EINVAL), tc.want) {
				t.Fatalf("active(True) = %v; want OSError EINVAL saying %q", err, tc.want)
			}
			if a, _ := r.nic.Active(ctx); a {
				t.Error("active() True after a refused active(True)")
			}
			if got := r.status(t); got != 0 {
				t.Errorf("status() = %d, want 0", got)
			}
			// connect() and scan() activate the station: they refuse too.
			if err := r.nic.Connect(ctx, "nichost-sim", "conformance"); !isErr(err, abi.KindOSError, 0, tc.want) {
				t.Errorf("connect() = %v; want the blob's error", err)
			}
			if _, err := r.nic.Scan(ctx, nil); !isErr(err, abi.KindOSError, 0, tc.want) {
				t.Errorf("scan() = %v; want the blob's error", err)
			}
			if r.dev.Chip.Powered() {
				t.Error("the chip was powered up for a blob that cannot boot it")
			}
		})
	}
	// A blob that ends before its size: found during the upload. The
	// bring-up stops, the station goes inactive, and the error names the
	// blob.
	t.Run("firmware cut short", func(t *testing.T) {
		fw := wlandev.Firmware()
		r := newRig(t, rigConfig{native: true, tweak: func(d *wlandev.Device) {
			d.Sims["w-firmware"] = lyingBlob{data: fw[:100000], size: int64(len(fw))}
		}})
		ctx := ctxT(t)
		if err := r.nic.SetActive(ctx, true); err != nil {
			t.Fatalf("active(True): %v", err)
		}
		eventually(t, "the bring-up to give up", func() bool { a, _ := r.nic.Active(ctx); return !a })
		if !strings.Contains(r.Log.String(), "firmware blob: read") {
			t.Error("the log does not say the firmware blob was short")
		}
		if got := r.status(t); got != 0 {
			t.Errorf("status() = %d, want 0", got)
		}
		if _, err := r.nic.Scan(ctx, nil); !isErr(err, abi.KindOSError, int(abi.EIO), "firmware blob: read") {
			t.Errorf("scan() = %v; want OSError EIO naming the firmware blob", err)
		}
		if r.dev.Chip.Booted() {
			t.Error("the chip booted from a short image")
		}
	})
	// An NVRAM blob of newline-separated text, comments and all, works.
	t.Run("nvram text", func(t *testing.T) {
		nv := []byte("# a board file\nmanfid=0x2d0\nboardtype=0x0887\n\nxtalfreq=37400\n")
		r := newRig(t, rigConfig{native: true, dev: wlandev.Options{NVRAM: nv}})
		r.up(t)
	})
}

func TestWLAN_Config(t *testing.T) {
	r := newRig(t, rigConfig{native: true})
	ctx := ctxT(t)
	get := func(name string) any {
		t.Helper()
		v, err := r.nic.Config(ctx, name)
		if err != nil {
			t.Fatalf("config(%q): %v", name, err)
		}
		return v
	}
	set := func(kw host.KW) {
		t.Helper()
		if err := r.nic.SetConfig(ctx, kw); err != nil {
			t.Fatalf("config(%v): %v", kw, err)
		}
	}
	// Defaults.
	for name, want := range map[string]any{
		"ssid": "", "essid": "", "security": int64(-1), "hidden": false, "channel": int64(0),
		"reconnects": int64(-1), "txpower": int64(20), "pm": int64(0xa11142), "antenna": int64(0), "trace": int64(0),
	} {
		if got := get(name); got != want {
			t.Errorf("config(%q) = %v (%T), want %v", name, got, got, want)
		}
	}
	if !bytes.Equal(get("mac").([]byte), r.nic.MAC()) {
		t.Errorf("config('mac') = %x, want the host's %x", get("mac"), r.nic.MAC())
	}
	// Every parameter set and read back; the aliases.
	for _, c := range []struct {
		set  host.KW
		name string
		want any
	}{
		{host.KW{"ssid": "net-a"}, "essid", "net-a"},
		{host.KW{"essid": "net-b"}, "ssid", "net-b"},
		{host.KW{"security": int64(6)}, "security", int64(6)},
		{host.KW{"security": int64(1)}, "security", int64(1)},
		{host.KW{"security": int64(-1)}, "security", int64(-1)},
		{host.KW{"hidden": true}, "hidden", true},
		{host.KW{"channel": int64(11)}, "channel", int64(11)},
		{host.KW{"channel": int64(0)}, "channel", int64(0)},
		{host.KW{"reconnects": int64(0)}, "reconnects", int64(0)},
		{host.KW{"reconnects": int64(5)}, "reconnects", int64(5)},
		{host.KW{"txpower": int64(12)}, "txpower", int64(12)},
		{host.KW{"txpower": 7.5}, "txpower", 7.5},
		{host.KW{"pm": int64(0x10)}, "pm", int64(0x10)},
		{host.KW{"pm": int64(0x111022)}, "pm", int64(0x111022)},
		{host.KW{"antenna": int64(1)}, "antenna", int64(1)},
		{host.KW{"trace": int64(1)}, "trace", int64(1)},
		{host.KW{"trace": int64(0)}, "trace", int64(0)},
		{host.KW{"hostname": "wlan-test"}, "hostname", "wlan-test"},
	} {
		set(c.set)
		if got := get(c.name); got != c.want {
			t.Errorf("config(%q) after config(%v) = %v, want %v", c.name, c.set, got, c.want)
		}
	}
	// The key, under both names, is write-only.
	set(host.KW{"key": "secret-key"})
	set(host.KW{"password": "other-secret"})
	for _, k := range []string{"key", "password"} {
		if _, err := r.nic.Config(ctx, k); !isErr(err, abi.KindValueError, 0, "write-only") {
			t.Errorf("config(%q) = %v; want a ValueError saying write-only", k, err)
		}
	}
	// A new MAC address.
	mac := []byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	set(host.KW{"mac": mac})
	if !bytes.Equal(get("mac").([]byte), mac) {
		t.Errorf("config('mac') = %x after setting %x", get("mac"), mac)
	}
	// Errors name the parameter; a refused call changes nothing.
	for _, c := range []struct {
		kw   host.KW
		kind int
		part string
	}{
		{host.KW{"nope": int64(1)}, abi.KindValueError, "nope"},
		{host.KW{"ssid": int64(1)}, abi.KindTypeError, "ssid"},
		{host.KW{"ssid": ""}, abi.KindValueError, "ssid"},
		{host.KW{"essid": strings.Repeat("x", 33)}, abi.KindValueError, "essid"},
		{host.KW{"key": int64(1)}, abi.KindTypeError, "key"},
		{host.KW{"password": strings.Repeat("k", 64)}, abi.KindValueError, "password"},
		{host.KW{"security": int64(5)}, abi.KindValueError, "security"},
		{host.KW{"security": true}, abi.KindTypeError, "security"},
		{host.KW{"hidden": int64(1)}, abi.KindTypeError, "hidden"},
		{host.KW{"channel": int64(12)}, abi.KindValueError, "XX"},
		{host.KW{"channel": "1"}, abi.KindTypeError, "channel"},
		{host.KW{"reconnects": int64(-2)}, abi.KindValueError, "reconnects"},
		{host.KW{"txpower": int64(21)}, abi.KindValueError, "txpower"},
		{host.KW{"txpower": int64(-1)}, abi.KindValueError, "txpower"},
		{host.KW{"txpower": "max"}, abi.KindTypeError, "txpower"},
		{host.KW{"pm": int64(3)}, abi.KindValueError, "pm"},
		{host.KW{"antenna": int64(2)}, abi.KindValueError, "antenna"},
		{host.KW{"trace": int64(16)}, abi.KindValueError, "trace"},
		{host.KW{"trace": true}, abi.KindTypeError, "trace"},
	} {
		if err := r.nic.SetConfig(ctx, c.kw); !isErr(err, c.kind, 0, c.part) {
			t.Errorf("config(%v) = %v; want %s naming %s", c.kw, err, abi.KindName(c.kind), c.part)
		}
	}
	if _, err := r.nic.Config(ctx, "nope"); !isErr(err, abi.KindValueError, 0, "nope") {
		t.Errorf("config('nope') = %v", err)
	}
	if err := r.nic.SetConfig(ctx, host.KW{"ssid": "changed", "antenna": int64(7)}); !isErr(err, abi.KindValueError, 0, "antenna") {
		t.Errorf("a bad antenna: %v", err)
	}
	if got := get("ssid"); got != "net-b" {
		t.Errorf("config('ssid') = %q after a refused call that also set it", got)
	}
}
