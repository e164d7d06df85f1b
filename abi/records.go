package abi

import (
	"fmt"
	"regexp"
	"slices"
)

// Description is what a plugin declares about itself from nic_describe
// (encoded as a CBOR map with these keys).
type Description struct {
	ABI        uint32    `cbor:"abi"`                // must equal the value of nic_abi_version
	Class      string    `cbor:"class"`              // one of Classes()
	Name       string    `cbor:"name"`               // driver name, e.g. "w5500"
	Version    string    `cbor:"version,omitempty"`  // driver's own version, free text
	Interfaces []string  `cbor:"interfaces"`         // interface names, index = interface index
	Buses      []BusNeed `cbor:"buses,omitempty"`    // buses the driver needs
	Features   []string  `cbor:"features,omitempty"` // optional ABI features it uses
}

// BusNeed is one bus a plugin needs, named as the operator's grant must name
// it.
type BusNeed struct {
	Name     string  `cbor:"name"`               // e.g. "spi", "rst", "int"
	Kind     BusKind `cbor:"kind"`               // one of BusKinds()
	Optional bool    `cbor:"optional,omitempty"` // the driver works without it (e.g. an interrupt line)
}

// BusKind names a kind of bus, as a description declares it and a grant
// gives it.
type BusKind string

// Bus kinds.
const (
	BusSPI   BusKind = "spi"
	BusGPIO  BusKind = "gpio"
	BusUART  BusKind = "uart"
	BusFrame BusKind = "frame" // raw Ethernet frame port
	BusMDIO  BusKind = "mdio"
	BusBlob  BusKind = "blob" // read-only bytes the operator supplies (since 1.1)
)

func (k BusKind) String() string { return string(k) }

// BusKinds lists the bus kinds of ABI v1.
func BusKinds() []BusKind { return []BusKind{BusSPI, BusGPIO, BusUART, BusFrame, BusMDIO, BusBlob} }

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,31}$`)

// Validate checks a description the host received from a plugin.
func (d *Description) Validate() error {
	if d.ABI>>16 != VersionMajor {
		return fmt.Errorf("abi: description declares ABI %s, this host speaks %s", VersionString(d.ABI), VersionString(Version))
	}
	if !slices.Contains(Classes(), d.Class) {
		return fmt.Errorf("abi: unknown class %q (want one of %v)", d.Class, Classes())
	}
	if !nameRE.MatchString(d.Name) {
		return fmt.Errorf("abi: driver name %q is not 1-32 of [a-z0-9_.-] starting with a letter", d.Name)
	}
	if len(d.Interfaces) == 0 || len(d.Interfaces) > MaxInterfaces {
		return fmt.Errorf("abi: a plugin must declare 1 to %d interfaces, not %d", MaxInterfaces, len(d.Interfaces))
	}
	seen := map[string]bool{}
	for _, n := range d.Interfaces {
		if !nameRE.MatchString(n) || seen[n] {
			return fmt.Errorf("abi: interface name %q is invalid or repeated", n)
		}
		seen[n] = true
	}
	if len(d.Buses) > MaxBusesPerGrant {
		return fmt.Errorf("abi: %d buses declared, at most %d allowed", len(d.Buses), MaxBusesPerGrant)
	}
	seen = map[string]bool{}
	for _, b := range d.Buses {
		if !nameRE.MatchString(b.Name) || seen[b.Name] {
			return fmt.Errorf("abi: bus name %q is invalid or repeated", b.Name)
		}
		seen[b.Name] = true
		if !slices.Contains(BusKinds(), b.Kind) {
			return fmt.Errorf("abi: bus %q has unknown kind %q (want one of %v)", b.Name, b.Kind, BusKinds())
		}
		if b.Kind == BusBlob && d.ABI < Version11 {
			return fmt.Errorf("abi: bus %q is a blob, which needs ABI 1.1; the description declares %s", b.Name, VersionString(d.ABI))
		}
	}
	return nil
}

// StartInfo is the argument of nic_start: what the host granted.
type StartInfo struct {
	Buses      map[string]uint32 `cbor:"buses"`              // bus name -> handle (only granted ones)
	Interfaces []InterfaceInfo   `cbor:"interfaces"`         // per interface index
	Options    map[string]any    `cbor:"options,omitempty"`  // driver options from the operator's config
	Hostname   string            `cbor:"hostname"`           // network.hostname()
	Country    string            `cbor:"country"`            // network.country()
	PhyMode    int               `cbor:"phy_mode,omitempty"` // network.phy_mode(), 0 if never set
	Features   []string          `cbor:"features,omitempty"` // optional features the host offers
	// Resume offers a driver that declares FeatureResume the running
	// device (nil: a cold start). See ABI.md "Warm handover".
	Resume *Resume `cbor:"resume,omitempty"`
}

// Resume is the start info's "resume": why the device is still running and
// what the previous instance handed over.
type Resume struct {
	Reason string `cbor:"reason"`          // ResumeReload or ResumeFault
	State  []byte `cbor:"state,omitempty"` // nic_suspend's reply; none after a fault
}

// Reasons of a Resume.
const (
	ResumeReload = "reload" // the previous instance was stopped for a reload
	ResumeFault  = "fault"  // the previous instance faulted
)

// InterfaceInfo is the host's identity for one interface.
type InterfaceInfo struct {
	Name string `cbor:"name"`
	MAC  []byte `cbor:"mac"` // 6 bytes, assigned by the host
}
