// Package spitrace records and replays SPI sessions. Record wraps an SPI
// conn and writes every transaction to a JSON-lines trace (see the format in
// trace.go); Replay plays a trace back as an SPI conn, returning the recorded
// reads and failing with the transaction index when the driver writes
// something else. ReadTrace loads a trace for inspection.
package spitrace
