package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// WASI errno values the tests expect (and wasi.go's).
const wasiOK = 0

// wasiMod exports one WASI call per export, each taking its count from the
// export's argument n; pointers are fixed, the tests fill the memory:
//
//	nic_poll(n)         fd_write(1, iovs, n, result)
//	nic_status(n)       loop { fd_write(1, iovs, n, result) }
//	nic_scan(n)         random_get(buf, n)
//	nic_config(n)       poll_oneoff(subs, events, n, result)
//	nic_connect(n)      fd_read(0, iovs, n, result)
//	nic_disconnect(n)   fd_pread(0, iovs, n, 0, result)
//	nic_isconnected(n)  fd_pwrite(1, iovs, n, 0, result)
const (
	iovsAt   = 0x100    // the iovec array
	resultAt = 0x10     // where a call writes its count
	bufAt    = 0x10000  // a buffer, up to the end of memory
	eventsAt = 0x8000   // poll_oneoff's events (the subscriptions at bufAt)
	wasiMem  = 40 * mib // memory size
	bigBuf   = 32 * mib // a large buffer at bufAt
	wasiLim  = 64 * mib // memory limit
	wasiName = "wasi_snapshot_preview1"
)

func wasiMod() wasmMod {
	const (
		fdWrite = iota
		randomGet
		pollOneoff
		fdRead
		fdPread
		fdPwrite
		nImports
	)
	i64zero := []byte{0x42, 0x00}
	fns := []wasmFunc{
		abiVersion,
		{sig: "i:i", body: cat(i32c(1), i32c(iovsAt), get(0), i32c(resultAt), call(fdWrite))},
		{sig: "i:i", body: cat([]byte{opLoop, 0x40}, i32c(1), i32c(iovsAt), get(0), i32c(resultAt), call(fdWrite), []byte{opDrop, opBr, 0x00, opEnd}, i32c(0))},
		{sig: "i:i", body: cat(i32c(bufAt), get(0), call(randomGet))},
		{sig: "i:i", body: cat(i32c(bufAt), i32c(eventsAt), get(0), i32c(resultAt), call(pollOneoff))},
		{sig: "i:i", body: cat(i32c(0), i32c(iovsAt), get(0), i32c(resultAt), call(fdRead))},
		{sig: "i:i", body: cat(i32c(0), i32c(iovsAt), get(0), i64zero, i32c(resultAt), call(fdPread))},
		{sig: "i:i", body: cat(i32c(1), i32c(iovsAt), get(0), i64zero, i32c(resultAt), call(fdPwrite))},
	}
	exports := map[string]int{}
	for i, n := range []string{"nic_abi_version", "nic_poll", "nic_status", "nic_scan", "nic_config", "nic_connect", "nic_disconnect", "nic_isconnected"} {
		exports[n] = nImports + i
	}
	return wasmMod{
		imports: []wasmImport{
			{wasiName, "fd_write", "iiii:i"},
			{wasiName, "random_get", "ii:i"},
			{wasiName, "poll_oneoff", "iiii:i"},
			{wasiName, "fd_read", "iiii:i"},
			{wasiName, "fd_pread", "iiiIi:i"},
			{wasiName, "fd_pwrite", "iiiIi:i"},
		},
		funcs:   fns,
		exports: exports,
		pages:   wasiMem / 65536,
	}
}

// setIovecs points n iovecs at [ptr, ptr+l).
func setIovecs(t *testing.T, w testInstance, n int, ptr, l uint32) {
	t.Helper()
	b := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[8*i:], ptr)
		binary.LittleEndian.PutUint32(b[8*i+4:], l)
	}
	writeMem(t, w, iovsAt, b)
}

// lines collects what an instance logs.
type lines struct{ got []string }

func (l *lines) log(s string) { l.got = append(l.got, s) }

func ctxFor(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	_ = cancel // the tests' contexts end with their deadline
	return ctx
}

func TestWASI_WriteBomb(t *testing.T) { forEngines(t, testWASIWriteBomb) }

func testWASIWriteBomb(t *testing.T, engine string) {
	var out lines
	w := instantiate(t, engine, wasiMod(), wasiLim, Output{Log: out.log})
	// One fd_write of 1024 iovecs, each pointing at the same 32 MiB of
	// "x\n": 32 GiB of output and 16 Gi lines, were it all taken.
	writeMem(t, w, bufAt, bytes.Repeat([]byte("x\n"), bigBuf/2))
	setIovecs(t, w, iovMax, bufAt, bigBuf)
	t0 := time.Now()
	rc, err := w.invoke(ctxFor(10*time.Second), "nic_poll", uint64(iovMax))
	took := time.Since(t0)
	if err != nil || rc != wasiEIO {
		t.Fatalf("fd_write bomb = %d, %v; want EIO (%d)", rc, err, wasiEIO)
	}
	// 64 KiB were taken: 32768 lines, of which the rate limit let 50 (and
	// what it refilled meanwhile) reach the log, and all went by the tail.
	const taken = maxOutputPerCall / 2
	refill := int(took.Seconds()*outputRate) + 1
	if len(out.got) < outputBurst || len(out.got) > outputBurst+refill {
		t.Fatalf("logged %d lines, want %d..%d", len(out.got), outputBurst, outputBurst+refill)
	}
	if d := w.module().DroppedLines(); int(d)+len(out.got) != taken {
		t.Fatalf("dropped %d + logged %d lines, want the %d taken", d, len(out.got), taken)
	}
	if s := w.outputTail().String(); s != strings.Repeat("x | ", tailLines-1)+"x" {
		t.Fatalf("tail %q", s)
	}
	t.Logf("fd_write of 1024 x 32 MiB: %v; %d lines logged, %d dropped", took, len(out.got), w.module().DroppedLines())

	// The budget is per call: the next call writes again, and more iovecs
	// than IOV_MAX is EINVAL.
	writeMem(t, w, bufAt, []byte("hello\n"))
	setIovecs(t, w, 2, bufAt, 6)
	if rc, err := w.invoke(ctxFor(10*time.Second), "nic_poll", uint64(2)); err != nil || rc != wasiOK {
		t.Fatalf("a small write after the bomb = %d, %v; want 0", rc, err)
	}
	if rc, err := w.invoke(ctxFor(10*time.Second), "nic_poll", uint64(iovMax+1)); err != nil || rc != wasiEINVAL {
		t.Fatalf("fd_write of %d iovecs = %d, %v; want EINVAL", iovMax+1, rc, err)
	}
}

func TestWASI_WriteLoopMeetsDeadline(t *testing.T) { forEngines(t, testWASIWriteLoopMeetsDeadline) }

func testWASIWriteLoopMeetsDeadline(t *testing.T, engine string) {
	// The guest calls fd_write with the bomb in a loop: each call returns
	// EIO at once, so the deadline interrupt lands.
	w := instantiate(t, engine, wasiMod(), wasiLim, Output{Allow: func() bool { return false }, Dropped: new(atomic.Uint64)})
	writeMem(t, w, bufAt, bytes.Repeat([]byte("x\n"), bigBuf/2))
	setIovecs(t, w, iovMax, bufAt, bigBuf)
	const deadline = 300 * time.Millisecond
	t0 := time.Now()
	_, err := w.invoke(ctxFor(deadline), "nic_status", uint64(iovMax))
	took := time.Since(t0)
	var f *Fault
	if !errors.As(err, &f) || f.Kind != FaultTimeout {
		t.Fatalf("write loop = %v, want a timeout fault", err)
	}
	if took > deadline+2*time.Second {
		t.Fatalf("the write loop ran %v under a deadline of %v", took, deadline)
	}
	t.Logf("write loop under a %v deadline ended after %v", deadline, took)
}

func TestWASI_EmptyWritesEnd(t *testing.T) {
	// Empty iovecs cost a byte each: a call cannot make the host call the
	// sink without end.
	var b callBudget
	b.begin(context.Background())
	s := outputSink{b: &b, t: newTail(nil)}
	n := 0
	for ; n < 2*maxOutputPerCall; n++ {
		if _, err := s.Write(nil); err != nil {
			break
		}
	}
	if n != maxOutputPerCall {
		t.Fatalf("%d empty writes taken, want %d", n, maxOutputPerCall)
	}
	b.begin(context.Background())
	if _, err := s.Write([]byte("x\n")); err != nil {
		t.Fatalf("a write in the next call: %v", err)
	}
}

func TestWASI_NothingAfterDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var b callBudget
	b.begin(ctx)
	s, r := outputSink{b: &b, t: newTail(nil)}, randSource{b: &b}
	if _, err := s.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if n, err := s.Write([]byte("y\n")); n != 0 || err == nil {
		t.Fatalf("a write after the deadline = %d, %v; want refused", n, err)
	}
	if n, err := r.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Fatalf("random after the deadline = %d, %v; want refused", n, err)
	}
}

func TestWASI_OutputRateLimit(t *testing.T) { forEngines(t, testWASIOutputRateLimit) }

func testWASIOutputRateLimit(t *testing.T, engine string) {
	// The host's limit (shared with the log import) decides; what it
	// refuses is counted where the host says.
	var dropped atomic.Uint64
	allowed := 3
	var out lines
	w := instantiate(t, engine, wasiMod(), wasiLim, Output{Log: out.log, Dropped: &dropped, Allow: func() bool {
		allowed--
		return allowed >= 0
	}})
	writeMem(t, w, bufAt, []byte("a\nb\nc\nd\ne\n"))
	setIovecs(t, w, 1, bufAt, 10)
	if rc, err := w.invoke(ctxFor(10*time.Second), "nic_poll", uint64(1)); err != nil || rc != wasiOK {
		t.Fatalf("fd_write = %d, %v", rc, err)
	}
	if strings.Join(out.got, "") != "abc" || dropped.Load() != 2 || w.module().DroppedLines() != 0 {
		t.Fatalf("logged %q, dropped %d (module %d); want abc, 2 (0)", out.got, dropped.Load(), w.module().DroppedLines())
	}
	if s := w.outputTail().String(); s != "a | b | c | d | e" {
		t.Fatalf("tail %q: dropped lines still explain a fault", s)
	}
}

func TestWASI_RandomBounded(t *testing.T) { forEngines(t, testWASIRandomBounded) }

func testWASIRandomBounded(t *testing.T, engine string) {
	w := instantiate(t, engine, wasiMod(), wasiLim, Output{})
	ctx := ctxFor(10 * time.Second)
	if rc, err := w.invoke(ctx, "nic_scan", uint64(maxRandomPerCall)); err != nil || rc != wasiOK {
		t.Fatalf("random_get(64 KiB) = %d, %v; want 0", rc, err)
	}
	if b := readMem(t, w, bufAt, maxRandomPerCall); bytes.Count(b, []byte{0}) > maxRandomPerCall/64 {
		t.Fatal("random_get did not fill the buffer")
	}
	if rc, err := w.invoke(ctx, "nic_scan", uint64(maxRandomPerCall+1)); err != nil || rc != wasiEIO {
		t.Fatalf("random_get(64 KiB + 1) = %d, %v; want EIO", rc, err)
	}
	if rc, err := w.invoke(ctx, "nic_scan", uint64(bigBuf)); err != nil || rc != wasiEIO {
		t.Fatalf("random_get(32 MiB) = %d, %v; want EIO", rc, err)
	}
}

func TestWASI_CountsBounded(t *testing.T) { forEngines(t, testWASICountsBounded) }

func testWASICountsBounded(t *testing.T, engine string) {
	w := instantiate(t, engine, wasiMod(), wasiLim, Output{})
	ctx := ctxFor(10 * time.Second)
	setIovecs(t, w, iovMax+1, 0, 0) // empty iovecs
	for _, tt := range []struct {
		export string
		call   string
		most   int32
	}{
		{"nic_config", "poll_oneoff", maxSubscriptions}, // zeroed subscriptions: clock, relative 0
		{"nic_connect", "fd_read", iovMax},
		{"nic_disconnect", "fd_pread", iovMax},
		{"nic_isconnected", "fd_pwrite", iovMax},
	} {
		if rc, err := w.invoke(ctx, tt.export, uint64(tt.most+1)); err != nil || rc != wasiEINVAL {
			t.Errorf("%s with %d = %d, %v; want EINVAL", tt.call, tt.most+1, rc, err)
		}
		if rc, err := w.invoke(ctx, tt.export, uint64(tt.most)); err != nil || rc == wasiEINVAL {
			t.Errorf("%s with %d = %d, %v; want wazero's answer", tt.call, tt.most, rc, err)
		}
	}
}
