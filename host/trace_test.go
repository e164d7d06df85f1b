package host_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// pcapBlock is one block of a pcapng file.
type pcapBlock struct {
	typ  uint32
	body []byte
}

func readPcapng(t *testing.T, path string) []pcapBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []pcapBlock
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("truncated block: % x", b)
		}
		typ, total := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		if total%4 != 0 || int(total) > len(b) || binary.LittleEndian.Uint32(b[total-4:]) != total {
			t.Fatalf("block of type %#x has a bad length %d", typ, total)
		}
		blocks = append(blocks, pcapBlock{typ, b[8 : total-4]})
		b = b[total:]
	}
	return blocks
}

func TestNIC_TracePcapng(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "eth0.pcapng")
	if err := nic.SetConfig(ctx, host.KW{"trace": path}); err != nil {
		t.Fatal(err)
	}
	if v, _ := nic.Config(ctx, "trace"); v != path {
		t.Fatalf("config('trace') = %v", v)
	}
	in := bytes.Repeat([]byte{0xaa}, 60)
	out := bytes.Repeat([]byte{0xbb}, 61) // odd length: padding
	if _, err := nic.Call(ctx, "deliver", in); err != nil {
		t.Fatal(err)
	}
	hosttest.Transmit(nic, out)
	eventually(t, "the frame sent", func() bool { return nic.Stats().TxFrames == 1 })
	if err := nic.SetConfig(ctx, host.KW{"trace": nil}); err != nil {
		t.Fatal(err)
	}
	blocks := readPcapng(t, path)
	if len(blocks) != 4 || blocks[0].typ != 0x0A0D0D0A || blocks[1].typ != 1 || blocks[2].typ != 6 || blocks[3].typ != 6 {
		t.Fatalf("blocks %v, want SHB, IDB, 2 EPBs", blocks)
	}
	if binary.LittleEndian.Uint32(blocks[0].body) != 0x1A2B3C4D {
		t.Fatal("bad byte-order magic")
	}
	if lt := binary.LittleEndian.Uint16(blocks[1].body); lt != 1 {
		t.Fatalf("link type %d, want 1 (Ethernet)", lt)
	}
	for i, want := range []struct {
		data []byte
		flag uint32
	}{{in, 1}, {out, 2}} {
		epb := blocks[2+i].body
		capLen := binary.LittleEndian.Uint32(epb[12:])
		data := epb[20 : 20+capLen]
		opts := epb[20+capLen+uint32((4-capLen%4)%4):]
		if !bytes.Equal(data, want.data) || binary.LittleEndian.Uint16(opts) != 2 || binary.LittleEndian.Uint32(opts[4:]) != want.flag {
			t.Fatalf("packet %d: % x, options % x", i, data, opts)
		}
	}
	// Tracing stopped: nothing more is written.
	nic.Call(ctx, "deliver", in)
	if len(readPcapng(t, path)) != 4 {
		t.Fatal("frames traced after trace=None")
	}
	// A path that cannot be created fails without changing anything.
	err := nic.SetConfig(ctx, host.KW{"trace": "/nonexistent-dir/x.pcapng", "label": "x"})
	if !errors.Is(err, abi.ErrOS) {
		t.Fatalf("bad trace path: %v", err)
	}
	if v, _ := nic.Config(ctx, "label"); v != "" {
		t.Fatalf("label changed to %q by a refused call", v)
	}
	// trace=True is MicroPython's flag form: the driver's to take or refuse.
	if err := nic.SetConfig(ctx, host.KW{"trace": true}); !errors.Is(err, abi.ErrValue) || !contains(err.Error(), `"trace"`) {
		t.Fatalf("trace=True should reach the test driver, which refuses it: %v", err)
	}
}
