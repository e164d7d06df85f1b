package linux

import (
	"errors"
	"strings"
	"testing"

	"unsafe"

	"github.com/nichost/nichost/host/bus"
	"golang.org/x/sys/unix"
)

func TestOpenMDIO(t *testing.T) {
	tests := []struct {
		name string
		cfg  MDIOConfig
		want string
	}{
		{"absent interface", MDIOConfig{Interface: "nichostnone0"}, "bus: mdio: nichostnone0: "},
		{"invalid config", MDIOConfig{}, "mdio config: interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := OpenMDIO(tt.cfg)
			if err == nil {
				t.Fatalf("OpenMDIO = %v, want an error", m)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLinuxMDIO_WriteReg(t *testing.T) {
	// No interface is needed to check the read-only guard and the ranges.
	m := &linuxMDIO{ifname: "eth9", fd: -1}
	if err := m.WriteReg(1, 0, 0x8000); !errors.Is(err, bus.ErrReadOnly) || !strings.Contains(err.Error(), "eth9") {
		t.Errorf("WriteReg without AllowWrite: %v, want bus.ErrReadOnly naming eth9", err)
	}
	m.allowWrite = true
	if err := m.WriteReg(1, 0, 0x8000); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("WriteReg on a closed bus: %v, want bus.ErrClosed", err)
	}
	if _, err := m.ReadReg(40, 0); err == nil || !strings.Contains(err.Error(), "PHY address 40") {
		t.Errorf("ReadReg(40, 0): %v, want a range error", err)
	}
}

func TestMIIIfreq_layout(t *testing.T) {
	// struct ifreq is IFNAMSIZ + a union of at most 24 bytes, and
	// struct mii_ioctl_data sits at the start of the union.
	var r miiIfreq
	if got := unsafe.Sizeof(r); got != unix.IFNAMSIZ+24 {
		t.Errorf("sizeof(miiIfreq) = %d, want %d", got, unix.IFNAMSIZ+24)
	}
	if got := unsafe.Offsetof(r.phyID); got != unix.IFNAMSIZ {
		t.Errorf("offsetof(phyID) = %d, want %d", got, unix.IFNAMSIZ)
	}
	if got := unsafe.Offsetof(r.valOut); got != unix.IFNAMSIZ+6 {
		t.Errorf("offsetof(valOut) = %d, want %d", got, unix.IFNAMSIZ+6)
	}
}
