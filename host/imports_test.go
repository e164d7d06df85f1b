package host_test

import (
	"bytes"
	"errors"
	"reflect"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

func TestImports_Buses(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	call := func(name string, args ...any) any {
		t.Helper()
		v, err := nic.Call(ctx, name, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}

	t.Run("spi", func(t *testing.T) {
		got := call("spi", []byte{0x00, 0x0f, 0xf0})
		if !bytes.Equal(got.([]byte), []byte{0xff, 0xf0, 0x0f}) {
			t.Fatalf("spi read %x, want the device's complement fff00f", got)
		}
		sel := r.spiDev.selects
		got = call("spi_batch", []byte{0x12, 0x34, 0x01}, 2, []byte{0xaa})
		if !bytes.Equal(got.([]byte), []byte{0xff, 0xff}) {
			t.Fatalf("batched read %x, want ffff (complement of the zeros clocked out)", got)
		}
		if n := r.spiDev.selects - sel; n != 2 {
			t.Fatalf("batch of 3 records with KeepCS on the first made %d CS frames, want 2", n)
		}
		frames := r.spiDev.frames[len(r.spiDev.frames)-2:]
		if !bytes.Equal(frames[0], []byte{0x12, 0x34, 0x01, 0, 0}) || !bytes.Equal(frames[1], []byte{0xaa}) {
			t.Fatalf("CS frames % x, want header+zeros then aa", frames)
		}
		if st := r.spi.Stats(); st.Transactions == 0 {
			t.Fatal("SimSPI counted no transactions")
		}
	})
	t.Run("gpio", func(t *testing.T) {
		call("gpio_write", true)
		if l, out := r.pin.Output(); !out || l != gpio.High {
			t.Fatalf("pin = %v (output %v), want driven high", l, out)
		}
		call("gpio_watch", int64(abi.EdgeRising))
		r.pin.SetLevel(gpio.High)
		r.pin.SetLevel(gpio.Low)
		r.pin.SetLevel(gpio.High)
		if v := call("gpio_read"); v != true {
			t.Fatalf("gpio_read = %v, want true", v)
		}
		var edges int64
		eventually(t, "two rising edges", func() bool {
			edges += call("gpio_edges").(int64)
			return edges >= 2
		})
		if edges != 2 {
			t.Fatalf("counted %d rising edges, want 2", edges)
		}
		eventually(t, "a poll with EventGPIO", func() bool {
			return abi.Event(call("info").(map[string]any)["events"].(int64))&abi.EventGPIO != 0
		})
	})
	t.Run("uart", func(t *testing.T) {
		if n := call("uart_write", []byte("AT\r")); n != int64(3) {
			t.Fatalf("uart_write wrote %v bytes", n)
		}
		buf := make([]byte, 16)
		eventually(t, "bytes at the device", func() bool { return r.uart.Buffered() == 3 })
		n, _ := r.uart.Read(buf)
		if string(buf[:n]) != "AT\r" {
			t.Fatalf("device read %q", buf[:n])
		}
		r.uart.Write([]byte("OK\r\n"))
		var got []byte
		eventually(t, "the reply in the plugin", func() bool {
			got = append(got, call("uart_read").([]byte)...)
			return len(got) >= 4
		})
		if string(got) != "OK\r\n" {
			t.Fatalf("plugin read %q", got)
		}
	})
	t.Run("frame port", func(t *testing.T) {
		frame := bytes.Repeat([]byte{0x5a}, 60)
		call("frame_write", frame)
		buf := make([]byte, 1600)
		var n int
		eventually(t, "the frame on the wire", func() bool { n, _ = r.wire.ReadFrame(buf); return n > 0 })
		if !bytes.Equal(buf[:n], frame) {
			t.Fatalf("wire got % x", buf[:n])
		}
		r.wire.WriteFrame(frame[:20])
		var got []byte
		eventually(t, "the frame in the plugin", func() bool { got = call("frame_read").([]byte); return len(got) > 0 })
		if !bytes.Equal(got, frame[:20]) {
			t.Fatalf("plugin read % x", got)
		}
	})
	t.Run("mdio", func(t *testing.T) {
		r.phy.r[2] = 0x0007
		if v := call("mdio_read", 1, 2); v != int64(7) {
			t.Fatalf("mdio_read(1, 2) = %v", v)
		}
		if v := call("mdio_read", 5, 2); v != int64(0xffff) {
			t.Fatalf("mdio_read of an absent PHY = %#x, want 0xffff", v)
		}
		call("mdio_write", 1, 0, 0x8000)
		if r.phy.r[0] != 0x8000 {
			t.Fatalf("PHY register 0 = %#x after write", r.phy.r[0])
		}
		if _, err := nic.Call(ctx, "mdio_read", 32, 0); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("mdio_read(32, 0) = %v, want EINVAL", err)
		}
	})
}

func TestImports_TimeLogFrames(t *testing.T) {
	r := newRig(t, config.Limits{})
	nics := r.load(t, "full", plugin("full")).NICs()
	nic := nics[0]
	ctx := ctxT(t)
	link := &hosttest.Link{}
	hosttest.Attach(nic, link)

	t.Run("now and sleep", func(t *testing.T) {
		a, _ := nic.Call(ctx, "now")
		if _, err := nic.Call(ctx, "sleep", int64(2*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		b, _ := nic.Call(ctx, "now")
		if d := b.(int64) - a.(int64); d < int64(2*time.Millisecond) {
			t.Fatalf("now advanced %v across a 2ms sleep", time.Duration(d))
		}
		if _, err := nic.Call(ctx, "sleep", int64(time.Second)); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("sleep(1s) = %v, want EINVAL (longer waits belong in poll)", err)
		}
	})
	t.Run("wake_at", func(t *testing.T) {
		if _, err := nic.Call(ctx, "wake_after", int64(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a timer poll", func() bool {
			v, _ := nic.Call(ctx, "info")
			return abi.Event(v.(map[string]any)["events"].(int64))&abi.EventTimer != 0
		})
	})
	t.Run("log", func(t *testing.T) {
		if _, err := nic.Call(ctx, "log", "hello from the driver"); err != nil {
			t.Fatal(err)
		}
		if !contains(r.log.String(), "hello from the driver") || !contains(r.log.String(), "plugin=full") {
			t.Fatalf("log lacks the driver's line tagged with the plugin:\n%s", r.log)
		}
	})
	t.Run("rx_push and link", func(t *testing.T) {
		if err := nic.SetActive(ctx, true); err != nil {
			t.Fatal(err)
		}
		frame := bytes.Repeat([]byte{1}, 1500)
		if _, err := nic.Call(ctx, "deliver", frame, 3); err != nil {
			t.Fatal(err)
		}
		eventually(t, "3 frames at the core", func() bool { return link.Count() == 3 })
		if !bytes.Equal(link.Frames()[0], frame) {
			t.Fatal("the core got another frame than the driver delivered")
		}
		if st := link.States()[len(link.States())-1]; !st.Up || st.MTU != 1500 {
			t.Fatalf("core's last link state %+v", st)
		}
		if s := nic.Stats(); s.RxFrames != 3 || s.RxBytes != 4500 {
			t.Fatalf("stats %+v", s)
		}
		// With no Link attached, frames are dropped and counted.
		hosttest.Attach(nics[1], nil)
		nics[1].Call(ctx, "deliver", frame)
		eventually(t, "the drop counted", func() bool { return nics[1].Stats().Drops["no network core attached"] == 1 })
	})
	t.Run("report", func(t *testing.T) {
		// Only IP-only links report (TestSandbox_PPPPluginReports); this
		// one is Ethernet.
		if _, err := nic.Call(ctx, "report", map[string]any{"addr4": "10.64.0.2"}); !errors.Is(err, syscall.EPERM) {
			t.Fatalf("report on an Ethernet link = %v, want EPERM", err)
		}
		if len(link.Reports()) != 0 {
			t.Fatalf("the core got reports %v", link.Reports())
		}
	})
	t.Run("transmit", func(t *testing.T) {
		for i := range 3 {
			if err := hosttest.Transmit(nic, []byte{byte(i), 0xee}); err != nil {
				t.Fatal(err)
			}
		}
		var sent []any
		eventually(t, "3 frames in the driver", func() bool {
			v, _ := nic.Call(ctx, "sent")
			sent = append(sent, v.([]any)...)
			return len(sent) >= 3
		})
		if !reflect.DeepEqual(sent, []any{[]byte{0, 0xee}, []byte{1, 0xee}, []byte{2, 0xee}}) {
			t.Fatalf("driver got %v", sent)
		}
		// A busy transmitter keeps frames queued, in order, until it frees.
		nic.SetConfig(ctx, host.KW{"busy": true})
		hosttest.Transmit(nic, []byte{9})
		if v, _ := nic.Call(ctx, "sent"); len(v.([]any)) != 0 {
			t.Fatalf("busy driver got %v", v)
		}
		nic.SetConfig(ctx, host.KW{"busy": false})
		eventually(t, "the held frame", func() bool {
			v, _ := nic.Call(ctx, "sent")
			return len(v.([]any)) == 1
		})
		if s := nic.Stats(); s.TxFrames != 4 {
			t.Fatalf("tx frames %d, want 4", s.TxFrames)
		}
	})
}
