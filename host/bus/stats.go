package bus

// FrameStats counts the traffic of one frame port.
type FrameStats struct {
	TxFrames uint64 // frames accepted by WriteFrame
	TxBytes  uint64
	RxFrames uint64 // frames returned by ReadFrame
	RxBytes  uint64
	Dropped  uint64 // frames dropped because the receive queue was full
	TooLong  uint64 // frames dropped because the ReadFrame buffer was too small
}

// UARTStats counts the traffic seen by one end of a UART.
type UARTStats struct {
	TxBytes  uint64 // bytes accepted by Write
	RxBytes  uint64 // bytes stored in the receive buffer
	Overruns uint64 // received bytes dropped because the buffer was full
}
