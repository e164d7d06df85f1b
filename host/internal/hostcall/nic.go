package hostcall

import (
	"fmt"

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

// RxPushBatch is the rx_push_batch import: the batch is checked whole
// before any frame is delivered.
func (s *Session) RxPushBatch(iface int32, records []byte) int32 {
	n := s.nic(iface)
	if n == nil {
		return -abi.ENODEV
	}
	queued := int32(0)
	if _, err := abi.ForEachFrame(records, abi.MaxRxBatch, func(frame []byte) {
		if n.Deliver(frame) == 0 {
			queued++
		}
	}); err != nil {
		return -abi.EINVAL
	}
	return queued
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
	if want := s.o.LinkType(); abi.LinkType(kind) != want {
		s.o.Deny(abi.ImportLink, fmt.Sprintf("link type %d (%v) on a class whose links are %v", kind, abi.LinkType(kind), want))
		return -abi.EPERM
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
	ap := s.o.Class() == abi.ClassWLAN && n.Role() == "ap"
	if s.o.LinkType() != abi.LinkIP && !ap {
		// Addresses and DNS servers belong to the core; only a link that
		// negotiates them (PPP's IPCP) may tell it what they are.
		s.o.Deny(abi.ImportReport, "report on an Ethernet link: IP configuration belongs to the network core")
		return -abi.EPERM
	}
	v, err := abi.Unmarshal(b)
	if err != nil {
		return -abi.EINVAL
	}
	m, ok := v.(map[string]any)
	switch {
	case !ok:
		return -abi.EINVAL
	case ap:
		// A Wi-Fi access point tells which stations are associated; it
		// has no addresses to report.
		if !abi.ValidStationsReport(m) {
			return -abi.EINVAL
		}
	case !abi.ValidReport(m):
		return -abi.EINVAL
	}
	n.Report(m)
	return 0
}
