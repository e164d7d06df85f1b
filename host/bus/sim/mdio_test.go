package sim

import (
	"strings"
	"testing"

	"github.com/nichost/nichost/host/bus"
)

// regFile is a PHY with 32 plain registers.
type regFile [bus.MDIORegs]uint16

func (r *regFile) ReadReg(reg uint8) uint16     { return r[reg] }
func (r *regFile) WriteReg(reg uint8, v uint16) { r[reg] = v }

func TestMDIO_ReadReg(t *testing.T) {
	m := NewMDIO()
	phy := &regFile{2: 0x0007, 3: 0xc0f1} // PHY identifier registers
	m.Attach(1, phy)
	tests := []struct {
		name     string
		phy, reg uint8
		want     uint16
		wantErr  string
	}{
		{"attached PHY", 1, 2, 0x0007, ""},
		{"attached PHY id2", 1, 3, 0xc0f1, ""},
		{"absent PHY reads all ones", 0, 2, 0xFFFF, ""},
		{"absent PHY at 31", 31, 0, 0xFFFF, ""},
		{"address out of range", 32, 0, 0, "bus: mdio: PHY address 32 out of range"},
		{"register out of range", 1, 32, 0, "bus: mdio: register 32 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.ReadReg(tt.phy, tt.reg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadReg = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadReg(%d, %d) = %#04x, %v; want %#04x", tt.phy, tt.reg, got, err, tt.want)
			}
		})
	}
}

func TestMDIO_WriteReg(t *testing.T) {
	m := NewMDIO()
	phy := &regFile{}
	m.Attach(5, phy)
	if err := m.WriteReg(5, 0, 0x8000); err != nil {
		t.Fatal(err)
	}
	if phy[0] != 0x8000 {
		t.Fatalf("PHY register 0 = %#04x, want 0x8000", phy[0])
	}
	if err := m.WriteReg(6, 0, 0x8000); err != nil {
		t.Fatalf("write to an empty address: %v, want nil (ignored)", err)
	}
	if v, _ := m.ReadReg(6, 0); v != 0xFFFF {
		t.Fatalf("empty address reads %#04x after a write", v)
	}
	m.Attach(5, nil)
	if v, _ := m.ReadReg(5, 0); v != 0xFFFF {
		t.Fatalf("detached PHY reads %#04x, want 0xffff", v)
	}
}

func TestMDIO_Attach(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Attach(32, ...) did not panic")
		}
	}()
	NewMDIO().Attach(32, &regFile{})
}
