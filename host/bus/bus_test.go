package bus

import (
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
			if err != nil && !strings.HasPrefix(err.Error(), "bus: unknown kind") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}
