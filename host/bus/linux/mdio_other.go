//go:build !linux

package linux

import (
	"fmt"
	"runtime"

	"github.com/nichost/nichost/host/bus"
)

// OpenMDIO is only implemented on Linux, where it uses the MII ioctls of a
// network interface.
func OpenMDIO(cfg MDIOConfig) (bus.MDIO, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("bus: mdio: %s: MII ioctls not supported on %s", cfg.Interface, runtime.GOOS)
}
