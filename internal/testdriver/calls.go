package testdriver

import (
	"errors"
	"io"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

type callFunc func(d *Driver, iface int, a guest.Args) (any, error)

// calls are the driver's class-specific methods; each exercises imports.
// Arguments are read with guest.Args' accessors; extra arguments are
// ignored.
var calls map[string]callFunc

func init() {
	calls = map[string]callFunc{
		"noop": func(*Driver, int, guest.Args) (any, error) { return nil, nil },
		// crash panics: in WASM the instance dies and the host restarts it.
		"crash": func(*Driver, int, guest.Args) (any, error) { panic("testdriver: crash requested") },
		"echo":  func(_ *Driver, _ int, a guest.Args) (any, error) { return abi.Tuple{a.Pos, a.KW}, nil },
		"raise": func(_ *Driver, _ int, a guest.Args) (any, error) {
			kind, err := a.At(0, "kind").Int()
			if err != nil {
				return nil, err
			}
			errno, err := a.At(1, "errno").Int()
			if err != nil {
				return nil, err
			}
			msg, _ := a.At(2, "msg").Value.(string)
			return nil, &abi.Error{Kind: int(kind), Errno: int(errno), Msg: msg}
		},
		"info": func(d *Driver, _ int, _ guest.Args) (any, error) {
			info := d.env.Info()
			return map[string]any{"hostname": info.Hostname, "country": d.country, "phy_mode": d.phyMode, "polls": d.polls, "events": int64(d.events)}, nil
		},
		"phy_mode": func(d *Driver, _ int, a guest.Args) (any, error) {
			m, err := a.At(0, "mode").Int()
			if err == nil {
				d.phyMode = m
			}
			return nil, err
		},
		"country": func(d *Driver, _ int, a guest.Args) (any, error) {
			code, err := a.At(0, "code").Str()
			if err == nil {
				d.country = code
			}
			return nil, err
		},
		"now": func(d *Driver, _ int, a guest.Args) (any, error) {
			n, err := a.At(0, "n").Or(1).Int()
			if err != nil {
				return nil, err
			}
			var t time.Duration
			for range n {
				t = d.env.Now()
			}
			return int64(t), nil
		},
		"sleep": func(d *Driver, _ int, a guest.Args) (any, error) {
			ns, err := a.At(0, "ns").Int()
			if err != nil {
				return nil, err
			}
			return nil, d.env.Sleep(time.Duration(ns))
		},
		"sleep_out": func(d *Driver, _ int, _ guest.Args) (any, error) {
			// Sleep 10 ms at a time until the host says the deadline is
			// near; answer how many sleeps ran and what ended them.
			n := int64(0)
			for {
				if err := d.env.Sleep(10 * time.Millisecond); err != nil {
					return abi.Tuple{n, err.Error()}, nil
				}
				n++
			}
		},
		"wake_after": func(d *Driver, _ int, a guest.Args) (any, error) {
			ns, err := a.At(0, "ns").Int()
			if err != nil {
				return nil, err
			}
			d.env.WakeAfter(time.Duration(ns))
			return nil, nil
		},
		"log": func(d *Driver, _ int, a guest.Args) (any, error) {
			msg, err := a.At(0, "msg").Str()
			if err != nil {
				return nil, err
			}
			d.env.Logf(abi.LogInfo, "%s", msg)
			return nil, nil
		},
		"deliver": func(d *Driver, iface int, a guest.Args) (any, error) {
			frame, err := a.At(0, "frame").Bytes()
			if err != nil {
				return nil, err
			}
			n, err := a.At(1, "n").Or(1).Int()
			if err != nil {
				return nil, err
			}
			// A full receive queue (ENOBUFS) is waited out briefly, as a
			// driver keeping frames in its device's buffer would.
			for range n {
				for tries := 0; ; tries++ {
					err := d.env.Deliver(iface, frame)
					if err == nil {
						break
					}
					var e *abi.Error
					if !errors.As(err, &e) || e.Errno != abi.ENOBUFS || tries == 1000 {
						return nil, err
					}
					d.env.Sleep(20 * time.Microsecond)
				}
			}
			return nil, nil
		},
		"report": func(d *Driver, iface int, a guest.Args) (any, error) {
			v, err := a.At(0, "info").Any()
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, abi.TypeError("info: expected dict")
			}
			return nil, d.env.Report(iface, m)
		},
		"link": func(d *Driver, iface int, a guest.Args) (any, error) {
			// link(up, type, mtu): report a link state as given.
			up, err := a.At(0, "up").Bool()
			if err != nil {
				return nil, err
			}
			kind, err := a.At(1, "type").Int()
			if err != nil {
				return nil, err
			}
			mtu, err := a.At(2, "mtu").Or(int64(0)).Int()
			if err != nil {
				return nil, err
			}
			return nil, d.env.SetLink(iface, up, abi.LinkType(kind), int(mtu))
		},
		"blob": func(d *Driver, _ int, a guest.Args) (any, error) {
			// blob(off, n): the blob's size and n bytes read from off.
			off, err := a.At(0, "off").Int()
			if err != nil {
				return nil, err
			}
			n, err := a.At(1, "n").Int()
			if err != nil {
				return nil, err
			}
			b, err := d.env.Blob("fw")
			if err != nil {
				return nil, err
			}
			size, err := b.Size()
			if err != nil {
				return nil, err
			}
			p := make([]byte, n)
			k, err := b.ReadAt(p, off)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return abi.Tuple{size, p[:k]}, nil
		},
		"spi_keep": func(d *Driver, _ int, a guest.Args) (any, error) {
			// One record with KEEP_CS, the last of its batch.
			w, err := a.At(0, "data").Bytes()
			if err != nil {
				return nil, err
			}
			s, err := d.env.SPI("spi")
			if err != nil {
				return nil, err
			}
			return nil, s.Transact([]abi.SPIOp{{W: w, KeepCS: true}})
		},
		"sent": func(d *Driver, _ int, _ guest.Args) (any, error) {
			out := make([]any, len(d.sent))
			for i, f := range d.sent {
				out[i] = f
			}
			d.sent = nil
			return out, nil
		},
		"spi": func(d *Driver, _ int, a guest.Args) (any, error) {
			w, err := a.At(0, "data").Bytes()
			if err != nil {
				return nil, err
			}
			s, err := d.env.SPI("spi")
			if err != nil {
				return nil, err
			}
			r := make([]byte, len(w))
			return r, s.Tx(w, r)
		},
		"spi_batch": func(d *Driver, _ int, a guest.Args) (any, error) {
			// Two chip-select frames: (header, then a read under the same
			// CS) and a second write alone.
			hdr, err := a.At(0, "header").Bytes()
			if err != nil {
				return nil, err
			}
			n, err := a.At(1, "n").Int()
			if err != nil {
				return nil, err
			}
			tail, err := a.At(2, "tail").Bytes()
			if err != nil {
				return nil, err
			}
			s, err := d.env.SPI("spi")
			if err != nil {
				return nil, err
			}
			r := make([]byte, n)
			err = s.Transact([]abi.SPIOp{{W: hdr, KeepCS: true}, {R: r}, {W: tail}})
			return r, err
		},
		"gpio_write": func(d *Driver, _ int, a guest.Args) (any, error) {
			hi, err := a.At(0, "level").Bool()
			if err != nil {
				return nil, err
			}
			g, err := d.env.GPIO("pin")
			if err != nil {
				return nil, err
			}
			return nil, g.Write(hi)
		},
		"gpio_read": func(d *Driver, _ int, _ guest.Args) (any, error) {
			g, err := d.env.GPIO("pin")
			if err != nil {
				return nil, err
			}
			return g.Read()
		},
		"gpio_watch": func(d *Driver, _ int, a guest.Args) (any, error) {
			e, err := a.At(0, "edge").Int()
			if err != nil {
				return nil, err
			}
			g, err := d.env.GPIO("pin")
			if err != nil {
				return nil, err
			}
			return nil, g.Watch(abi.Edge(e))
		},
		"gpio_edges": func(d *Driver, _ int, _ guest.Args) (any, error) {
			g, err := d.env.GPIO("pin")
			if err != nil {
				return nil, err
			}
			return g.Edges()
		},
		"uart_write": func(d *Driver, _ int, a guest.Args) (any, error) {
			b, err := a.At(0, "data").Bytes()
			if err != nil {
				return nil, err
			}
			u, err := d.env.UART("serial")
			if err != nil {
				return nil, err
			}
			n, err := u.Write(b)
			if errors.Is(err, io.ErrShortWrite) {
				err = nil // the caller sees the count the host took
			}
			return n, err
		},
		"uart_read": func(d *Driver, _ int, _ guest.Args) (any, error) {
			u, err := d.env.UART("serial")
			if err != nil {
				return nil, err
			}
			n, err := u.Read(d.buf)
			return append([]byte(nil), d.buf[:n]...), err
		},
		"frame_write": func(d *Driver, _ int, a guest.Args) (any, error) {
			b, err := a.At(0, "frame").Bytes()
			if err != nil {
				return nil, err
			}
			p, err := d.env.FramePort("port")
			if err != nil {
				return nil, err
			}
			return nil, p.Write(b)
		},
		"frame_read": func(d *Driver, _ int, _ guest.Args) (any, error) {
			p, err := d.env.FramePort("port")
			if err != nil {
				return nil, err
			}
			n, err := p.Read(d.buf)
			return append([]byte(nil), d.buf[:n]...), err
		},
		"mdio_read": func(d *Driver, _ int, a guest.Args) (any, error) {
			phy, err := a.At(0, "phy").Int()
			if err != nil {
				return nil, err
			}
			reg, err := a.At(1, "reg").Int()
			if err != nil {
				return nil, err
			}
			m, err := d.env.MDIO("mdio")
			if err != nil {
				return nil, err
			}
			v, err := m.Read(int(phy), int(reg))
			return int64(v), err
		},
		"mdio_write": func(d *Driver, _ int, a guest.Args) (any, error) {
			phy, err := a.At(0, "phy").Int()
			if err != nil {
				return nil, err
			}
			reg, err := a.At(1, "reg").Int()
			if err != nil {
				return nil, err
			}
			val, err := a.At(2, "val").Int()
			if err != nil {
				return nil, err
			}
			m, err := d.env.MDIO("mdio")
			if err != nil {
				return nil, err
			}
			return nil, m.Write(int(phy), int(reg), uint16(val))
		},
	}
}
