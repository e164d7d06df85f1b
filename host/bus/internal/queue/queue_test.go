package queue

import (
	"bytes"
	"testing"
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
