package guesttest_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// plain is a LAN driver with a blob it may do without; its Poll runs the
// test's hook, and it takes every frame offered.
type plain struct {
	env  *guest.Env
	poll func()
	sent int
}

func (d *plain) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "plain", Interfaces: []string{"eth"},
		Buses: []abi.BusNeed{{Name: "fw", Kind: abi.BusBlob, Optional: true}}}
}
func (d *plain) Start(env *guest.Env) error          { d.env = env; return nil }
func (d *plain) Active(int) bool                     { return false }
func (d *plain) SetActive(int, bool) error           { return nil }
func (d *plain) IsConnected(int) bool                { return false }
func (d *plain) Status(int, string) (any, error)     { return 0, nil }
func (d *plain) ConfigGet(int, string) (any, error)  { return nil, nil }
func (d *plain) ConfigSet(int, map[string]any) error { return nil }
func (d *plain) Transmit(int, []byte) error          { d.sent++; return nil }
func (d *plain) Poll(abi.Event) error {
	if d.poll != nil {
		d.poll()
	}
	return nil
}
func (d *plain) TransmitBatch(_ int, f [][]byte) (int, error) { d.sent += len(f); return len(f), nil }

// The start info lists the host features but those Options leave out.
func TestOptions_WithoutFeatures(t *testing.T) {
	d := &plain{}
	guesttest.New(t, d, guesttest.Options{})
	if got := d.env.Info().Features; !slices.Equal(got, abi.HostFeatures()) {
		t.Errorf("features %v, want %v", got, abi.HostFeatures())
	}
	guesttest.New(t, d, guesttest.Options{WithoutFeatures: []string{abi.FeatureRxBatch}})
	if got := d.env.Info().Features; !slices.Equal(got, []string{abi.FeatureTxBatch, abi.FeatureBlob, abi.FeatureResume}) {
		t.Errorf("features without rx_batch: %v", got)
	}
	if _, err := guesttest.Start(d, guesttest.Options{WithoutFeatures: []string{"tx_bacth"}}); err == nil || !strings.Contains(err.Error(), `"tx_bacth", which is not a host feature`) {
		t.Errorf("an unknown feature: %v", err)
	}
}

// An import of a feature the host does not offer is a violation: a real
// host would not have loaded the module.
func TestImports_WithheldFeature(t *testing.T) {
	tests := []struct {
		feature string
		call    func(abi.Imports)
	}{
		{abi.FeatureRxBatch, func(imp abi.Imports) { imp.RxPushBatch(0, abi.AppendFrame(nil, make([]byte, 60))) }},
		{abi.FeatureBlob, func(imp abi.Imports) { imp.BlobSize(1) }},
		{abi.FeatureBlob, func(imp abi.Imports) { imp.BlobRead(1, 0, make([]byte, 8)) }},
	}
	for _, tt := range tests {
		d := &plain{}
		h := guesttest.New(t, d, guesttest.Options{WithoutFeatures: []string{tt.feature}})
		d.poll = func() { tt.call(h.Imports()) }
		if err := h.Poll(abi.EventTimer); !errors.Is(err, guesttest.ErrViolation) || !strings.Contains(err.Error(), "does not offer "+tt.feature) {
			t.Errorf("without %s: poll = %v, want a violation naming the feature", tt.feature, err)
		}
	}
}

// rx_push_batch checks the batch whole: a malformed one is -EINVAL and
// delivers nothing.
func TestImports_RxPushBatch(t *testing.T) {
	h := guesttest.New(t, &plain{}, guesttest.Options{})
	imp := h.Imports()
	good := abi.AppendFrame(abi.AppendFrame(nil, []byte("first")), []byte("second"))
	if rc := imp.RxPushBatch(0, good); rc != 2 {
		t.Fatalf("a batch of 2: %d", rc)
	}
	tooMany := []byte{}
	for range abi.MaxRxBatch + 1 {
		tooMany = abi.AppendFrame(tooMany, []byte{1})
	}
	for name, rc := range map[string]int32{
		"truncated":  imp.RxPushBatch(0, good[:len(good)-1]),
		"empty":      imp.RxPushBatch(0, []byte{0, 0, 0, 0}),
		"257 frames": imp.RxPushBatch(0, tooMany),
	} {
		if rc != -abi.EINVAL {
			t.Errorf("%s: %d, want -EINVAL", name, rc)
		}
	}
	if rc := imp.RxPushBatch(1, good); rc != -abi.ENODEV {
		t.Errorf("interface 1 of 1: %d, want -ENODEV", rc)
	}
	if got := h.Frames(0); len(got) != 2 || string(got[0]) != "first" || string(got[1]) != "second" {
		t.Errorf("frames %q", got)
	}
}

// TransmitBatch refuses what a host would never offer.
func TestHost_TransmitBatch(t *testing.T) {
	d := &plain{}
	h := guesttest.New(t, d, guesttest.Options{})
	frame := make([]byte, 1514)
	tests := []struct {
		name   string
		frames [][]byte
		want   string
	}{
		{"none", nil, "0 frames; a host offers 1 to 64"},
		{"65", slices.Repeat([][]byte{frame[:60]}, 65), "65 frames"},
		{"an empty frame", [][]byte{frame, {}}, "frame 1 has 0 bytes"},
		{"more than the buffer", slices.Repeat([][]byte{frame}, 44), "frames[:44] do not fit the 65536-byte transmit buffer"},
	}
	for _, tt := range tests {
		if n, err := h.TransmitBatch(tt.frames...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %d, %v; want an error containing %q", tt.name, n, err, tt.want)
		}
	}
	if d.sent != 0 {
		t.Fatalf("the driver got %d frames of refused batches", d.sent)
	}
	if n, err := h.TransmitBatch(slices.Repeat([][]byte{frame}, 43)...); n != 43 || err != nil || d.sent != 43 {
		t.Fatalf("43 full frames: %d, %v; the driver got %d", n, err, d.sent)
	}
	h = guesttest.New(t, d, guesttest.Options{WithoutFeatures: []string{abi.FeatureTxBatch}})
	if _, err := h.TransmitBatch(frame); err == nil || !strings.Contains(err.Error(), "leaves out tx_batch") {
		t.Fatalf("without tx_batch: %v", err)
	}
}

// A blob is granted as a []byte or a bus.Blob; the imports check their
// arguments as the host does.
func TestHost_Blob(t *testing.T) {
	fw := bytes.Repeat([]byte("fw"), 1000)
	h := guesttest.New(t, &plain{}, guesttest.Options{Buses: map[string]any{"fw": fw}})
	imp := h.Imports()
	fwh, _ := h.Handle("fw")
	if n := imp.BlobSize(fwh); n != int64(len(fw)) {
		t.Errorf("blob_size = %d, want %d", n, len(fw))
	}
	p := make([]byte, 10)
	for name, tt := range map[string]struct{ rc, want int32 }{
		"a read":          {imp.BlobRead(fwh, 1, p), 10},
		"across the end":  {imp.BlobRead(fwh, int64(len(fw))-4, p), 4},
		"past the end":    {imp.BlobRead(fwh, int64(len(fw))+4, p), 0},
		"negative offset": {imp.BlobRead(fwh, -1, p), -abi.EINVAL},
		"too much":        {imp.BlobRead(fwh, 0, make([]byte, abi.MaxBlobRead+1)), -abi.E2BIG},
		"not a handle":    {imp.BlobRead(fwh+1, 0, p), -abi.EBADF},
	} {
		if tt.rc != tt.want {
			t.Errorf("blob_read, %s: %d, want %d", name, tt.rc, tt.want)
		}
	}
	if n := imp.BlobSize(0); n != -abi.EBADF {
		t.Errorf("blob_size of handle 0: %d", n)
	}
	if h.HostCalls(abi.ImportBlobRead) != 6 || h.HostCalls(abi.ImportBlobSize) != 2 {
		t.Errorf("HostCalls counts %d blob_read, %d blob_size; want 6, 2", h.HostCalls(abi.ImportBlobRead), h.HostCalls(abi.ImportBlobSize))
	}
	if _, err := guesttest.Start(&plain{}, guesttest.Options{Buses: map[string]any{"fw": "fw.bin"}}); err == nil || !strings.Contains(err.Error(), `bus "fw" is declared blob, and Options.Buses gives a string`) {
		t.Errorf("a file name for a blob: %v", err)
	}
}
