package hostcall

import (
	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
)

func (s *Session) nic(iface int32) NIC {
	if iface < 0 || iface >= abi.MaxInterfaces {
		return nil
	}
	return s.o.NIC(iface)
}

// RxPush is the rx_push import.
func (s *Session) RxPush(iface int32, frame []byte) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	if len(frame) > abi.MaxFrame {
		return -abi.EMSGSIZE
	}
	return n.Deliver(frame)
}

// Link is the link import.
func (s *Session) Link(iface, up, kind, mtu int32) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	if (up != 0 && up != 1) || (abi.LinkType(kind) != abi.LinkEthernet && abi.LinkType(kind) != abi.LinkIP) || (mtu != 0 && (mtu < 68 || mtu > 65535)) {
		return -abi.EINVAL
	}
	n.SetLink(core.LinkState{Up: up == 1, Type: abi.LinkType(kind), MTU: int(mtu)})
	return 0
}

// Report is the report import.
func (s *Session) Report(iface int32, b []byte) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	v, err := abi.Unmarshal(b)
	if err != nil {
		return -abi.EINVAL
	}
	m, ok := v.(map[string]any)
	if !ok || !abi.ValidReport(m) {
		return -abi.EINVAL
	}
	n.Report(m)
	return 0
}
