package abi

import (
	"strconv"
	"strings"
)

// Version is the ABI version this module implements, as a plugin reports it
// from the nic_abi_version export: the major version in the high 16 bits, the
// minor in the low 16. A host runs a plugin whose major equals its own and
// whose minor is not above its own.
const (
	VersionMajor = 1
	VersionMinor = 0
	Version      = VersionMajor<<16 | VersionMinor
)

// VersionString formats an encoded ABI version as "major.minor".
func VersionString(v uint32) string {
	return strconv.Itoa(int(v>>16)) + "." + strconv.Itoa(int(v&0xffff))
}

// ImportModule is the wasm module name under which the host provides its
// functions.
const ImportModule = "nic"

// Exports a plugin must provide (besides "memory" and, for reactor modules
// built by Go, "_initialize", which the host runs first when present).
const (
	ExportABIVersion  = "nic_abi_version"
	ExportDescribe    = "nic_describe"
	ExportStart       = "nic_start"
	ExportActive      = "nic_active"
	ExportConnect     = "nic_connect"
	ExportDisconnect  = "nic_disconnect"
	ExportIsConnected = "nic_isconnected"
	ExportScan        = "nic_scan"
	ExportStatus      = "nic_status"
	ExportConfig      = "nic_config"
	ExportCall        = "nic_call"
	ExportPoll        = "nic_poll"
	ExportTransmit    = "nic_transmit"
)

// Imports the host provides in module "nic".
const (
	ImportArgs        = "args"
	ImportReply       = "reply"
	ImportRaise       = "raise"
	ImportLog         = "log"
	ImportNow         = "now"
	ImportSleep       = "sleep"
	ImportWakeAt      = "wake_at"
	ImportTxBuffer    = "tx_buffer"
	ImportRxPush      = "rx_push"
	ImportLink        = "link"
	ImportReport      = "report"
	ImportSPITransact = "spi_transact"
	ImportGPIORead    = "gpio_read"
	ImportGPIOWrite   = "gpio_write"
	ImportGPIOWatch   = "gpio_watch"
	ImportGPIOEdges   = "gpio_edges"
	ImportUARTRead    = "uart_read"
	ImportUARTWrite   = "uart_write"
	ImportFrameRead   = "frame_read"
	ImportFrameWrite  = "frame_write"
	ImportMDIORead    = "mdio_read"
	ImportMDIOWrite   = "mdio_write"
)

// Status codes returned by control exports (every export but nic_abi_version
// and nic_transmit's busy case).
const (
	StatusOK    = 0  // success; the result, if any, was set with reply
	StatusError = -1 // failure; the error was set with raise
)

// Results of nic_transmit besides StatusOK and StatusError.
const (
	TransmitBusy = 1 // no room now: the host keeps the frame and offers it again after the next poll
)

// Event is the set of bits passed to nic_poll: why the host is polling.
type Event uint32

// Event bits.
const (
	EventTimer Event = 1 << 0 // the wake_at deadline passed
	EventGPIO  Event = 1 << 1 // a watched GPIO line saw an edge
	EventUART  Event = 1 << 2 // a granted UART has bytes to read
	EventFrame Event = 1 << 3 // a granted frame port has frames to read
	EventTx    Event = 1 << 4 // the host holds frames to transmit that were refused as busy
	EventStart Event = 1 << 5 // first poll after nic_start (and after every restart)
)

var eventNames = [...]string{"timer", "gpio", "uart", "frame", "tx", "start"}

// String lists the bits set, e.g. "timer|gpio"; "none" for no bits.
func (e Event) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for i, name := range eventNames {
		if e&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if rest := e &^ (1<<len(eventNames) - 1); rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(parts, "|")
}

// Errno values returned (negated) by host functions, and carried by OSError.
// They are Linux's numbers.
const (
	EPERM     = 1   // operation not permitted by the grant (e.g. MDIO write on a read-only grant)
	EIO       = 5   // the bus or device failed
	E2BIG     = 7   // the data does not fit the buffer given
	EBADF     = 9   // the handle is not one this plugin was granted, or is of another bus kind
	EAGAIN    = 11  // nothing now; try after the next poll
	EFAULT    = 14  // a pointer/length lies outside guest memory (also an ABI violation)
	EINVAL    = 22  // an argument is out of range
	ENODEV    = 19  // no such interface index
	EMSGSIZE  = 90  // a frame is larger than the link allows
	ENOTSUP   = 95  // the host does not offer this on this bus
	ENOBUFS   = 105 // a queue is full; the data was dropped and counted
	ETIMEDOUT = 110 // the device did not answer in time
)

// Error kinds, as MicroPython would raise them.
const (
	KindValueError  = 1
	KindTypeError   = 2
	KindOSError     = 3
	KindUnsupported = 4 // NotImplementedError: the class or device lacks this
)

// Log levels for the log import (slog's numbering).
const (
	LogDebug = -4
	LogInfo  = 0
	LogWarn  = 4
	LogError = 8
)

// LinkType is how frames are framed on a link, as reported with the link
// import.
type LinkType int32

// Link types.
const (
	LinkEthernet LinkType = 1 // frames carry an Ethernet header
	LinkIP       LinkType = 2 // frames are bare IPv4/IPv6 packets (PPP)
)

func (t LinkType) String() string {
	switch t {
	case LinkEthernet:
		return "ethernet"
	case LinkIP:
		return "ip"
	}
	return "link type " + strconv.Itoa(int(t))
}

// Edge selects the edges of a GPIO line that gpio_watch reports.
type Edge int32

// Edges.
const (
	EdgeNone    Edge = 0
	EdgeRising  Edge = 1
	EdgeFalling Edge = 2
	EdgeBoth    Edge = 3
)

func (e Edge) String() string {
	switch e {
	case EdgeNone:
		return "none"
	case EdgeRising:
		return "rising"
	case EdgeFalling:
		return "falling"
	case EdgeBoth:
		return "both"
	}
	return "edge " + strconv.Itoa(int(e))
}

// SPI operation records passed to spi_transact: SPIOpSize bytes each, all
// fields little-endian uint32.
const (
	SPIOpSize        = 20
	SPIOpWritePtr    = 0  // guest address of the bytes to send (ignored if WriteLen is 0)
	SPIOpWriteLen    = 4  // bytes to send; 0 sends zeros for ReadLen bytes
	SPIOpReadPtr     = 8  // guest address that receives the bytes clocked in
	SPIOpReadLen     = 12 // bytes to receive; 0 discards what is clocked in
	SPIOpFlags       = 16 // SPIFlag* bits
	SPIFlagKeepCS    = 1  // keep chip select asserted into the next record
	SPIMaxOps        = 64 // records per call
	SPIMaxTransfer   = 64 << 10
	MaxMessage       = 64 << 10 // largest CBOR message accepted either way
	MaxFrame         = 65535    // largest frame that crosses rx_push or nic_transmit
	MaxSleepNanos    = 10_000_000
	MaxInterfaces    = 8
	MaxBusesPerGrant = 32
)

// Classes a plugin may declare.
const (
	ClassWLAN     = "WLAN"
	ClassWIZNET5K = "WIZNET5K"
	ClassLAN      = "LAN"
	ClassPPP      = "PPP"
)

// Classes lists the classes of ABI v1.
func Classes() []string { return []string{ClassWLAN, ClassWIZNET5K, ClassLAN, ClassPPP} }

// Signature is a wasm function type written as in ABI.md, e.g.
// "(i32, i32) -> i32"; "() -> i64".
type Signature string

// ExportFuncs lists every export of ABI v1 with its wasm type, in the order
// ABI.md documents them.
func ExportFuncs() []Func {
	return []Func{
		{ExportABIVersion, "() -> i32"},
		{ExportDescribe, "() -> i32"},
		{ExportStart, "() -> i32"},
		{ExportActive, "(i32) -> i32"},
		{ExportConnect, "(i32) -> i32"},
		{ExportDisconnect, "(i32) -> i32"},
		{ExportIsConnected, "(i32) -> i32"},
		{ExportScan, "(i32) -> i32"},
		{ExportStatus, "(i32) -> i32"},
		{ExportConfig, "(i32) -> i32"},
		{ExportCall, "(i32) -> i32"},
		{ExportPoll, "(i32) -> i32"},
		{ExportTransmit, "(i32, i32) -> i32"},
	}
}

// ImportFuncs lists every host function of ABI v1 (module "nic") with its wasm
// type, in the order ABI.md documents them.
func ImportFuncs() []Func {
	return []Func{
		{ImportArgs, "(i32, i32) -> i32"},
		{ImportReply, "(i32, i32) -> i32"},
		{ImportRaise, "(i32, i32, i32, i32) -> i32"},
		{ImportLog, "(i32, i32, i32) -> i32"},
		{ImportNow, "() -> i64"},
		{ImportSleep, "(i64) -> i32"},
		{ImportWakeAt, "(i64) -> i32"},
		{ImportTxBuffer, "(i32, i32) -> i32"},
		{ImportRxPush, "(i32, i32, i32) -> i32"},
		{ImportLink, "(i32, i32, i32, i32) -> i32"},
		{ImportReport, "(i32, i32, i32) -> i32"},
		{ImportSPITransact, "(i32, i32, i32) -> i32"},
		{ImportGPIORead, "(i32) -> i32"},
		{ImportGPIOWrite, "(i32, i32) -> i32"},
		{ImportGPIOWatch, "(i32, i32) -> i32"},
		{ImportGPIOEdges, "(i32) -> i32"},
		{ImportUARTRead, "(i32, i32, i32) -> i32"},
		{ImportUARTWrite, "(i32, i32, i32) -> i32"},
		{ImportFrameRead, "(i32, i32, i32) -> i32"},
		{ImportFrameWrite, "(i32, i32, i32) -> i32"},
		{ImportMDIORead, "(i32, i32, i32) -> i32"},
		{ImportMDIOWrite, "(i32, i32, i32, i32) -> i32"},
	}
}

// Func names a function of the ABI and its wasm type.
type Func struct {
	Name string
	Sig  Signature
}

// Params and Results split a signature into its value types ("i32",
// "i64").
func (s Signature) Params() []string  { p, _ := s.split(); return p }
func (s Signature) Results() []string { _, r := s.split(); return r }

func (s Signature) split() (params, results []string) {
	str := string(s)
	i := strings.Index(str, ") -> ")
	if !strings.HasPrefix(str, "(") || i < 0 {
		return nil, nil
	}
	if in := str[1:i]; in != "" {
		params = strings.Split(in, ", ")
	}
	if out := str[i+len(") -> "):]; out != "" && out != "()" {
		results = strings.Split(out, ", ")
	}
	return params, results
}
