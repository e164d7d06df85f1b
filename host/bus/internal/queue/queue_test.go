package queue

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nichost/nichost/host/bus"
)

func TestBytes_Push(t *testing.T) {
	q := NewBytes(5)
	steps := []struct {
		push   string
		stored int
		pop    int
		want   string
	}{
		{"abc", 3, 2, "ab"},
		{"defg", 4, 0, ""},      // wraps around the end
		{"xyz", 0, 10, "cdefg"}, // full: nothing stored
		{"", 0, 1, ""},
	}
	for i, s := range steps {
		if n := q.Push([]byte(s.push)); n != s.stored {
			t.Fatalf("step %d: push(%q) = %d, want %d", i, s.push, n, s.stored)
		}
		buf := make([]byte, s.pop)
		n := q.Pop(buf)
		if !bytes.Equal(buf[:n], []byte(s.want)) {
			t.Fatalf("step %d: pop = %q, want %q", i, buf[:n], s.want)
		}
	}
}

func TestFrames_Read(t *testing.T) {
	q := NewFrames(4)
	q.Push(Frame{Data: []byte("hello")})
	q.Push(Frame{Data: []byte("too long for three")})
	var st bus.FrameStats
	buf := make([]byte, 8)
	if n, err := q.Read(buf, &st); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %d, %v (%q); want the first frame", n, err, buf[:n])
	}
	if n, err := q.Read(buf[:3], &st); n != 0 || !errors.Is(err, bus.ErrFrameTooLong) {
		t.Fatalf("Read into 3 bytes = %d, %v; want ErrFrameTooLong", n, err)
	}
	if n, err := q.Read(buf, &st); n != 0 || err != nil {
		t.Fatalf("Read of an empty queue = %d, %v; want 0, nil", n, err)
	}
	if st != (bus.FrameStats{RxFrames: 1, RxBytes: 5, TooLong: 1}) {
		t.Fatalf("stats %+v", st)
	}
}
