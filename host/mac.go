package host

import (
	"crypto/sha256"
	"net"
	"os"
	"strings"
)

// DeriveMAC returns the stable, locally administered unicast MAC address of
// interface iface of the plugin named plugin on this machine: a hash of the
// machine's identity (/etc/machine-id, else the host name) and both names.
// The same inputs give the same address across restarts and reboots.
func DeriveMAC(plugin, iface string) net.HardwareAddr {
	return deriveMAC(machineID(), plugin, iface)
}

func deriveMAC(machine, plugin, iface string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("nichost-mac\x00" + machine + "\x00" + plugin + "\x00" + iface))
	mac := net.HardwareAddr(append([]byte(nil), sum[:6]...))
	mac[0] = mac[0]&^0x01 | 0x02 // unicast, locally administered
	return mac
}

func machineID() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	h, _ := os.Hostname()
	return h
}
