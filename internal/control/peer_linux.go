package control

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerOf reads a unix connection's peer credentials; nil for other
// connections or when the kernel does not say.
func peerOf(c net.Conn) *Peer {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return nil
	}
	return &Peer{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}
}
