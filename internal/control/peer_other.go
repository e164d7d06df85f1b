//go:build !linux

package control

import "net"

// peerOf returns nil: SO_PEERCRED is Linux's, and the daemon's boards run
// Linux; elsewhere callers are logged as an unknown peer.
func peerOf(net.Conn) *Peer { return nil }
