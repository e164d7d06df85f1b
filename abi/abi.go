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
	VersionMinor = 1
	Version      = VersionMajor<<16 | VersionMinor
	// Version10 is ABI 1.0, which a 1.1 host still runs: such a plugin
	// sees none of 1.1's additions.
	Version10 = 1 << 16
	// Version11 is ABI 1.1, which added batched frames and blobs.
	Version11 = 1<<16 | 1
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
	// ExportTransmitBatch is optional (since 1.1): several frames per call.
	ExportTransmitBatch = "nic_transmit_batch"
	// ExportSuspend is optional (since 1.1, with FeatureResume): the old
	// instance of a reload hands its running device over (ABI.md "Warm
	// handover").
	ExportSuspend = "nic_suspend"
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
	// Since 1.1.
	ImportRxPushBatch = "rx_push_batch"
	ImportBlobSize    = "blob_size"
	ImportBlobRead    = "blob_read"
)

// Host features a 1.1 host lists in the start info's "features".
const (
	FeatureTxBatch = "tx_batch" // the host calls nic_transmit_batch when the plugin exports it
	FeatureRxBatch = "rx_batch" // the rx_push_batch import
	FeatureBlob    = "blob"     // blob buses and the blob_size and blob_read imports
	// FeatureResume is the warm handover: a host lists it when it calls
	// nic_suspend and offers StartInfo.Resume; a driver declares it (in
	// Description.Features) when it exports nic_suspend and can adopt a
	// running device.
	FeatureResume = "resume"
)

// HostFeatures lists the features this host offers, in the order ABI.md
// gives them.
func HostFeatures() []string {
	return []string{FeatureTxBatch, FeatureRxBatch, FeatureBlob, FeatureResume}
}

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

	MaxTxBatch        = 64        // frames per nic_transmit_batch call
	MaxTxBuffer       = 256 << 10 // bytes of the transmit buffer the host uses
	MinTxBuffer       = 1514      // smallest transmit buffer tx_buffer accepts
	MaxRxBatch        = 256       // frames per rx_push_batch call
	MaxBlobRead       = 1 << 20   // bytes per blob_read call
	FrameRecordHeader = 4         // the u32 length before each frame of a batch
	MaxResumeState    = 4096      // bytes of state nic_suspend may hand over
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
		{ExportABIVersion, "() -> i32", 0},
		{ExportDescribe, "() -> i32", 0},
		{ExportStart, "() -> i32", 0},
		{ExportActive, "(i32) -> i32", 0},
		{ExportConnect, "(i32) -> i32", 0},
		{ExportDisconnect, "(i32) -> i32", 0},
		{ExportIsConnected, "(i32) -> i32", 0},
		{ExportScan, "(i32) -> i32", 0},
		{ExportStatus, "(i32) -> i32", 0},
		{ExportConfig, "(i32) -> i32", 0},
		{ExportCall, "(i32) -> i32", 0},
		{ExportPoll, "(i32) -> i32", 0},
		{ExportTransmit, "(i32, i32) -> i32", 0},
		{ExportTransmitBatch, "(i32, i32, i32) -> i32", Version11},
		{ExportSuspend, "(i32) -> i32", Version11},
	}
}

// ImportFuncs lists every host function of ABI v1 (module "nic") with its wasm
// type, in the order ABI.md documents them.
func ImportFuncs() []Func {
	return []Func{
		{ImportArgs, "(i32, i32) -> i32", 0},
		{ImportReply, "(i32, i32) -> i32", 0},
		{ImportRaise, "(i32, i32, i32, i32) -> i32", 0},
		{ImportLog, "(i32, i32, i32) -> i32", 0},
		{ImportNow, "() -> i64", 0},
		{ImportSleep, "(i64) -> i32", 0},
		{ImportWakeAt, "(i64) -> i32", 0},
		{ImportTxBuffer, "(i32, i32) -> i32", 0},
		{ImportRxPush, "(i32, i32, i32) -> i32", 0},
		{ImportRxPushBatch, "(i32, i32, i32) -> i32", Version11},
		{ImportLink, "(i32, i32, i32, i32) -> i32", 0},
		{ImportReport, "(i32, i32, i32) -> i32", 0},
		{ImportSPITransact, "(i32, i32, i32) -> i32", 0},
		{ImportGPIORead, "(i32) -> i32", 0},
		{ImportGPIOWrite, "(i32, i32) -> i32", 0},
		{ImportGPIOWatch, "(i32, i32) -> i32", 0},
		{ImportGPIOEdges, "(i32) -> i32", 0},
		{ImportUARTRead, "(i32, i32, i32) -> i32", 0},
		{ImportUARTWrite, "(i32, i32, i32) -> i32", 0},
		{ImportFrameRead, "(i32, i32, i32) -> i32", 0},
		{ImportFrameWrite, "(i32, i32, i32) -> i32", 0},
		{ImportMDIORead, "(i32, i32, i32) -> i32", 0},
		{ImportMDIOWrite, "(i32, i32, i32, i32) -> i32", 0},
		{ImportBlobSize, "(i32) -> i64", Version11},
		{ImportBlobRead, "(i32, i64, i32, i32) -> i32", Version11},
	}
}

// Func names a function of the ABI and its wasm type. Since is the version
// that added it (0 for 1.0). An export added after 1.0 is optional: the
// host uses it when the plugin has it.
type Func struct {
	Name  string
	Sig   Signature
	Since uint32
}

// Required reports whether every plugin must export f (exports of 1.0).
func (f Func) Required() bool { return f.Since == 0 }

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
