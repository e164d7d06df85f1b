package bus

import (
	"bytes"
	"strings"
	"testing"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestParseKind(t *testing.T) {
	tests := []struct {
		in      string
		want    Kind
		wantErr bool
	}{
		{"spi", KindSPI, false},
		{"gpio", KindGPIO, false},
		{"uart", KindUART, false},
		{"frame", KindFrame, false},
		{"mdio", KindMDIO, false},
		{"SPI", "", true},
		{"i2c", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseKind(%q) = %q, %v", tt.in, got, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "bus: unknown bus kind") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestByteQueue_push(t *testing.T) {
	q := newByteQueue(5)
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
		if n := q.push([]byte(s.push)); n != s.stored {
			t.Fatalf("step %d: push(%q) = %d, want %d", i, s.push, n, s.stored)
		}
		buf := make([]byte, s.pop)
		n := q.pop(buf)
		if !bytes.Equal(buf[:n], []byte(s.want)) {
			t.Fatalf("step %d: pop = %q, want %q", i, buf[:n], s.want)
		}
	}
}
