package engine

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	var logged []string
	tl := newTail(func(l string) { logged = append(logged, l) })
	tl.Write([]byte("starting\npanic: driver bug\ngoroutine 1 [running]:\n"))
	tl.Write([]byte(strings.Repeat("x", 10<<20))) // a runaway line is cut
	tl.Write([]byte("\nunterminated"))
	if got := tl.String(); got != "panic: driver bug" {
		t.Fatalf("String() = %q, want the panic line", got)
	}
	if len(logged) != 4 || len(logged[3]) != maxLine {
		t.Fatalf("logged %d lines, the long one %d bytes; want 4, cut to %d", len(logged), len(logged[3]), maxLine)
	}
	plain := newTail(nil)
	for i := range 20 {
		plain.Write([]byte(strings.Repeat("l", i+1) + "\n"))
	}
	plain.Write([]byte("tail"))
	parts := strings.Split(plain.String(), " | ")
	if len(parts) != tailLines+1 || parts[len(parts)-1] != "tail" {
		t.Fatalf("kept %v", parts)
	}
}
