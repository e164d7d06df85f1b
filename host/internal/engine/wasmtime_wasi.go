//go:build wasmtime && cgo

package engine

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
)

// WASI preview 1 for the wasmtime engine. wasmtime's own WASI writes
// stdout and stderr to files or the host's streams, past the host's
// bounds, so the host provides the 46 functions itself, answering as
// wazero's do for a module configured as the wazero engine configures it
// (wasi.go): stdin (fd 0, empty), stdout and stderr (fds 1 and 2, into the
// tail and the log through the call's budget) and nothing else; no
// arguments, no environment; the host's clocks; poll_oneoff and
// sched_yield that return at once; random_get bounded. The fd checks and
// errno values follow wazero's code for that case, function by function
// (TestWASI_SameAnswers compares the two engines); where wazero would fail
// on its missing file system (fd_filestat_set_times on stdio) this answers
// ENOSYS.

// wasiState is an instance's WASI: its file table and sinks.
type wasiState struct {
	h        *hostState // its memory view
	closed   [3]bool    // stdio the guest closed (fd_close)
	out      outputSink // stdout and stderr
	rand     randSource
	exited   bool // proc_exit was called
	exitCode uint32
}

// WASI errno values (wasi_snapshot_preview1's errno enum) and constants.
const (
	wasiESUCCESS     = 0
	wasiEBADF        = 8
	wasiEFAULT       = 21
	wasiEISDIR       = 31
	wasiENAMETOOLONG = 37
	wasiENOSYS       = 52
	wasiENOTDIR      = 54
	wasiENOTSUP      = 58
	wasiEPERM        = 63

	wasiFiletypeBlockDevice = 1 // what wazero's stdio files stat as

	wasiFdflagDsync    = 2
	wasiFdflagNonblock = 4
	wasiFdflagRsync    = 8
	wasiFdflagSync     = 16

	wasiFstflagAtim    = 1
	wasiFstflagAtimNow = 2
	wasiFstflagMtim    = 4
	wasiFstflagMtimNow = 8

	wasiEventClock   = 0
	wasiEventFdRead  = 1
	wasiEventFdWrite = 2

	// The rights wazero reports for a file that is not a directory: fd
	// datasync, read, seek, fdstat_set_flags, sync, tell, write, advise,
	// allocate, filestat_get, filestat_set_size, filestat_set_times and
	// poll_fd_readwrite.
	wasiFileRights = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<21 | 1<<22 | 1<<23 | 1<<27
)

var monotonicBase = time.Now()

// wasiFunc is one WASI function: its parameter types ("i" i32, "I" i64)
// and its code, which returns the errno. proc_exit, the one without a
// result, is defined apart.
type wasiFunc struct {
	name, params string
	fn           func(c *wasiState, s []uint64) uint32
}

var wasiFuncs = []wasiFunc{
	{"args_get", "ii", (*wasiState).emptyList},
	{"args_sizes_get", "ii", (*wasiState).emptySizes},
	{"environ_get", "ii", (*wasiState).emptyList},
	{"environ_sizes_get", "ii", (*wasiState).emptySizes},
	{"clock_res_get", "ii", (*wasiState).clockResGet},
	{"clock_time_get", "iIi", (*wasiState).clockTimeGet},
	{"fd_advise", "iIIi", (*wasiState).fdAdvise},
	{"fd_allocate", "iII", (*wasiState).fdAllocate},
	{"fd_close", "i", (*wasiState).fdClose},
	{"fd_datasync", "i", (*wasiState).fdSync},
	{"fd_fdstat_get", "ii", (*wasiState).fdFdstatGet},
	{"fd_fdstat_set_flags", "ii", (*wasiState).fdFdstatSetFlags},
	{"fd_fdstat_set_rights", "iII", func(*wasiState, []uint64) uint32 { return wasiENOSYS }},
	{"fd_filestat_get", "ii", (*wasiState).fdFilestatGet},
	{"fd_filestat_set_size", "iI", (*wasiState).fdNoFile},
	{"fd_filestat_set_times", "iIIi", (*wasiState).fdFilestatSetTimes},
	{"fd_pread", "iiiIi", func(c *wasiState, s []uint64) uint32 { return c.read(s, true) }},
	{"fd_prestat_get", "ii", (*wasiState).fdPrestatGet},
	{"fd_prestat_dir_name", "iii", (*wasiState).fdPrestatDirName},
	{"fd_pwrite", "iiiIi", func(c *wasiState, s []uint64) uint32 { return c.write(s, true) }},
	{"fd_read", "iiii", func(c *wasiState, s []uint64) uint32 { return c.read(s, false) }},
	{"fd_readdir", "iiiIi", (*wasiState).fdReaddir},
	{"fd_renumber", "ii", (*wasiState).fdRenumber},
	{"fd_seek", "iIii", (*wasiState).fdNoFile},
	{"fd_sync", "i", (*wasiState).fdSync},
	{"fd_tell", "ii", (*wasiState).fdNoFile},
	{"fd_write", "iiii", func(c *wasiState, s []uint64) uint32 { return c.write(s, false) }},
	{"path_create_directory", "iii", (*wasiState).pathAt},
	{"path_filestat_get", "iiiii", func(c *wasiState, s []uint64) uint32 { return c.atPath(s[0], s[2], s[3]) }},
	{"path_filestat_set_times", "iiiiIIi", (*wasiState).pathFilestatSetTimes},
	{"path_link", "iiiiiii", func(c *wasiState, s []uint64) uint32 { return c.atPath(s[0], s[2], s[3]) }},
	{"path_open", "iiiiiIIii", func(c *wasiState, s []uint64) uint32 { return c.atPath(s[0], s[2], s[3]) }},
	{"path_readlink", "iiiiii", (*wasiState).pathReadlink},
	{"path_remove_directory", "iii", (*wasiState).pathAt},
	{"path_rename", "iiiiii", (*wasiState).pathAt},
	{"path_symlink", "iiiii", (*wasiState).pathSymlink},
	{"path_unlink_file", "iii", (*wasiState).pathAt},
	{"poll_oneoff", "iiii", (*wasiState).pollOneoff},
	{"proc_raise", "i", func(*wasiState, []uint64) uint32 { return wasiENOSYS }},
	{"random_get", "ii", (*wasiState).randomGet},
	{"sched_yield", "", func(*wasiState, []uint64) uint32 { return wasiESUCCESS }},
	{"sock_accept", "iii", (*wasiState).fdNoSocket},
	{"sock_recv", "iiiiii", (*wasiState).fdNoSocket},
	{"sock_send", "iiiii", (*wasiState).sockSend},
	{"sock_shutdown", "ii", (*wasiState).fdNoSocket},
}

// wasiBounds are the counts wasi.go bounds: the parameter holding the
// count, and its most.
var wasiBounds = map[string]struct{ arg, most int }{
	"fd_read":     {2, iovMax},
	"fd_write":    {2, iovMax},
	"fd_pread":    {2, iovMax},
	"fd_pwrite":   {2, iovMax},
	"poll_oneoff": {2, maxSubscriptions},
}

// defineWASI defines module wasi_snapshot_preview1 in the linker.
func (r *wasmtimeRuntime) defineWASI() error {
	for _, f := range wasiFuncs {
		var params []string
		for _, p := range f.params {
			params = append(params, map[rune]string{'i': "i32", 'I': "i64"}[p])
		}
		fn, name := f.fn, f.name
		bound, bounded := wasiBounds[f.name]
		res := make([]wt.Val, 1)
		err := r.linker.FuncNew(wasiModule, f.name, funcType(params, []string{"i32"}), func(c *wt.Caller, args []wt.Val) (_ []wt.Val, trap *wt.Trap) {
			w, s := r.enter(c, args)
			defer w.leave()
			defer w.recovered(name, &trap)
			var errno uint32
			if bounded && uint32(s[bound.arg]) > uint32(bound.most) {
				errno = wasiEINVAL
			} else {
				errno = fn(&w.wasi, s)
			}
			res[0] = wt.ValI32(int32(errno))
			return res, nil
		})
		if err != nil {
			return fmt.Errorf("engine: WASI %s: %w", f.name, err)
		}
	}
	// proc_exit ends the instance: the call traps, and the fault is a
	// crash with the exit code (guestFault).
	err := r.linker.FuncNew(wasiModule, "proc_exit", funcType([]string{"i32"}, nil), func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
		w, s := r.enter(c, args)
		defer w.leave()
		w.wasi.exited, w.wasi.exitCode = true, uint32(s[0])
		return nil, wt.NewTrap(fmt.Sprintf("proc_exit(%d)", uint32(s[0])))
	})
	if err != nil {
		return fmt.Errorf("engine: WASI proc_exit: %w", err)
	}
	return nil
}

// open reports whether fd is one of the stdio files still open: the only
// files there are.
func (c *wasiState) open(fd uint64) bool {
	f := int32(uint32(fd))
	return f >= 0 && f <= 2 && !c.closed[f]
}

func (c *wasiState) mem() memory { return c.h.mem }

func (c *wasiState) put32(ptr uint64, v uint32) bool {
	b, ok := c.mem().Read(uint32(ptr), 4)
	if ok {
		binary.LittleEndian.PutUint32(b, v)
	}
	return ok
}

func (c *wasiState) put64(ptr uint64, v uint64) bool {
	b, ok := c.mem().Read(uint32(ptr), 8)
	if ok {
		binary.LittleEndian.PutUint64(b, v)
	}
	return ok
}

// emptyList is args_get and environ_get of no values: the pointers must
// still be inside memory.
func (c *wasiState) emptyList(s []uint64) uint32 {
	if _, ok := c.mem().Read(uint32(s[0]), 0); !ok {
		return wasiEFAULT
	}
	if _, ok := c.mem().Read(uint32(s[1]), 0); !ok {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

// emptySizes is args_sizes_get and environ_sizes_get: none, 0 bytes.
func (c *wasiState) emptySizes(s []uint64) uint32 {
	if !c.put32(s[0], 0) || !c.put32(s[1], 0) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

func (c *wasiState) clockResGet(s []uint64) uint32 {
	var res uint64
	switch uint32(s[0]) {
	case 0: // realtime: wazero's WithSysWalltime resolution
		res = uint64(time.Microsecond)
	case 1: // monotonic
		res = 1
	default:
		return wasiEINVAL
	}
	if !c.put64(s[1], res) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

func (c *wasiState) clockTimeGet(s []uint64) uint32 {
	var v int64
	switch uint32(s[0]) {
	case 0:
		v = time.Now().UnixNano()
	case 1:
		v = time.Since(monotonicBase).Nanoseconds()
	default:
		return wasiEINVAL
	}
	if !c.put64(s[2], uint64(v)) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

func (c *wasiState) fdAdvise(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	if byte(s[3]) > 5 { // normal, sequential, random, willneed, dontneed, noreuse
		return wasiEINVAL
	}
	return wasiESUCCESS
}

func (c *wasiState) fdAllocate(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	switch tail := int64(s[1] + s[2]); {
	case tail < 0:
		return wasiEINVAL
	case tail == 0: // the file (of size 0) is long enough
		return wasiESUCCESS
	}
	return wasiENOSYS // stdio cannot be truncated
}

func (c *wasiState) fdClose(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	c.closed[uint32(s[0])] = true
	return wasiESUCCESS
}

// fdSync is fd_sync and fd_datasync: nothing to flush.
func (c *wasiState) fdSync(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	return wasiESUCCESS
}

// fdNoFile answers what stdio cannot do (fd_seek, fd_tell,
// fd_filestat_set_size).
func (c *wasiState) fdNoFile(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	return wasiENOSYS
}

// fdNoSocket answers the socket calls: there are no sockets.
func (c *wasiState) fdNoSocket([]uint64) uint32 { return wasiEBADF }

func (c *wasiState) sockSend(s []uint64) uint32 {
	if uint32(s[3]) != 0 { // si_flags
		return wasiENOTSUP
	}
	return wasiEBADF
}

func (c *wasiState) fdFdstatGet(s []uint64) uint32 {
	b, ok := c.mem().Read(uint32(s[1]), 24)
	if !ok {
		return wasiEFAULT
	}
	if !c.open(s[0]) {
		return wasiEBADF
	}
	clear(b)
	binary.LittleEndian.PutUint16(b[0:], wasiFiletypeBlockDevice)
	binary.LittleEndian.PutUint64(b[8:], wasiFileRights)
	return wasiESUCCESS
}

func (c *wasiState) fdFdstatSetFlags(s []uint64) uint32 {
	flags := uint16(s[1])
	if flags&(wasiFdflagDsync|wasiFdflagRsync|wasiFdflagSync) != 0 {
		return wasiEINVAL
	}
	if !c.open(s[0]) {
		return wasiEBADF
	}
	if flags&wasiFdflagNonblock != 0 {
		return wasiENOSYS
	}
	return wasiESUCCESS
}

func (c *wasiState) fdFilestatGet(s []uint64) uint32 {
	b, ok := c.mem().Read(uint32(s[1]), 64)
	if !ok {
		return wasiEFAULT
	}
	if !c.open(s[0]) {
		return wasiEBADF
	}
	clear(b)
	binary.LittleEndian.PutUint64(b[16:], wasiFiletypeBlockDevice)
	binary.LittleEndian.PutUint64(b[24:], 1) // nlink
	return wasiESUCCESS
}

// badTimes checks fst_flags as wazero does: a time set both to a value
// and to now is EINVAL.
func badTimes(flags uint16) bool {
	return flags&wasiFstflagAtim != 0 && flags&wasiFstflagAtimNow != 0 ||
		flags&wasiFstflagMtim != 0 && flags&wasiFstflagMtimNow != 0
}

func (c *wasiState) fdFilestatSetTimes(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	if badTimes(uint16(s[3])) {
		return wasiEINVAL
	}
	return wasiENOSYS
}

// fdPrestatGet: wazero counts stdio as preopens and answers them a
// zero-length name; there is no preopened directory.
func (c *wasiState) fdPrestatGet(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	if !c.put64(s[1], 0) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

func (c *wasiState) fdPrestatDirName(s []uint64) uint32 {
	if !c.open(s[0]) {
		return wasiEBADF
	}
	if uint32(s[2]) > 0 {
		return wasiENAMETOOLONG
	}
	if _, ok := c.mem().Read(uint32(s[1]), 0); !ok {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

func (c *wasiState) fdReaddir(s []uint64) uint32 {
	if uint32(s[2]) < 24 { // a dirent header
		return wasiEINVAL
	}
	return wasiEBADF // no file is a directory
}

func (c *wasiState) fdRenumber(s []uint64) uint32 {
	if !c.open(s[0]) || int32(uint32(s[1])) < 0 {
		return wasiEBADF
	}
	return wasiENOTSUP // stdio are preopens, which wazero does not renumber
}

// iovecs reads n iovecs at ptr: the 8-byte (pointer, length) records.
func (c *wasiState) iovecs(ptr, n uint32) ([]byte, bool) {
	return c.mem().Read(ptr, n*8)
}

// read is fd_read and fd_pread (fd, iovs, iovs_len[, offset], result):
// stdin is empty; stdout and stderr are not readable (EBADF, wazero's
// answer to a file that cannot read), and nothing can pread.
func (c *wasiState) read(s []uint64, pread bool) uint32 {
	fd, result := s[0], s[3]
	if pread {
		result = s[4]
	}
	if !c.open(fd) {
		return wasiEBADF
	}
	iovs, ok := c.iovecs(uint32(s[1]), uint32(s[2]))
	if !ok {
		return wasiEFAULT
	}
	for i := 0; i < len(iovs); i += 8 {
		p, l := le32(iovs[i:]), le32(iovs[i+4:])
		if l == 0 {
			continue
		}
		if _, ok := c.mem().Read(p, l); !ok {
			return wasiEFAULT
		}
		if pread || uint32(fd) != 0 {
			return wasiEBADF
		}
		break // stdin gave 0 bytes, less than asked: done
	}
	if !c.put32(result, 0) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

// write is fd_write and fd_pwrite (fd, iovs, iovs_len[, offset], result):
// stdout and stderr go to the output sink; stdin is not writable, and
// nothing can pwrite (an empty iovec writes nothing and succeeds).
func (c *wasiState) write(s []uint64, pwrite bool) uint32 {
	fd, result := uint32(s[0]), s[3]
	if pwrite {
		result = s[4]
	}
	if !c.open(s[0]) {
		return wasiEBADF
	}
	iovs, ok := c.iovecs(uint32(s[1]), uint32(s[2]))
	if !ok {
		return wasiEFAULT
	}
	var n uint32
	for i := 0; i < len(iovs); i += 8 {
		b, ok := c.mem().Read(le32(iovs[i:]), le32(iovs[i+4:]))
		if !ok {
			return wasiEFAULT
		}
		switch {
		case pwrite && len(b) == 0:
		case pwrite || fd == 0:
			return wasiEBADF
		default:
			m, err := c.out.Write(b)
			n += uint32(m)
			if err != nil {
				return wasiEIO
			}
		}
	}
	if !c.put32(result, n) {
		return wasiEFAULT
	}
	return wasiESUCCESS
}

// atPath checks a path call's directory and path as wazero does: the path
// must be inside memory and valid, and the fd a directory, which none is.
func (c *wasiState) atPath(fd, ptr, n uint64) uint32 {
	b, ok := c.mem().Read(uint32(ptr), uint32(n))
	if !ok {
		return wasiEFAULT
	}
	if !fs.ValidPath(path.Clean(string(b))) {
		return wasiEPERM
	}
	if !c.open(fd) {
		return wasiEBADF
	}
	return wasiENOTDIR
}

// pathAt is a path call of (fd, path, path_len, ...).
func (c *wasiState) pathAt(s []uint64) uint32 { return c.atPath(s[0], s[1], s[2]) }

func (c *wasiState) pathFilestatSetTimes(s []uint64) uint32 {
	if badTimes(uint16(s[6])) {
		return wasiEINVAL
	}
	return c.atPath(s[0], s[2], s[3])
}

func (c *wasiState) pathReadlink(s []uint64) uint32 {
	if uint32(s[2]) == 0 || uint32(s[4]) == 0 {
		return wasiEINVAL
	}
	return c.atPath(s[0], s[1], s[2])
}

func (c *wasiState) pathSymlink(s []uint64) uint32 {
	if !c.open(s[2]) {
		return wasiEBADF
	}
	return wasiENOTDIR
}

// pollOneoff answers every subscription at once (wazero's nanosleep does
// nothing): a clock as elapsed, fd_read on an open fd as ready (stdin's
// answers come last, as wazero orders them), fd_write on an open fd as
// not supported, either on a closed fd as EBADF.
func (c *wasiState) pollOneoff(s []uint64) uint32 {
	in, out, n, result := uint32(s[0]), uint32(s[1]), uint32(s[2]), s[3]
	if n == 0 {
		return wasiEINVAL
	}
	subs, ok := c.mem().Read(in, n*48)
	if !ok {
		return wasiEFAULT
	}
	events, ok := c.mem().Read(out, n*32)
	if !ok {
		return wasiEFAULT
	}
	clear(events)
	if !c.put32(result, n) {
		return wasiEFAULT
	}
	var written uint32
	event := func(sub []byte, errno uint16) {
		e := events[written*32:]
		copy(e, sub[:8]) // userdata
		binary.LittleEndian.PutUint16(e[8:], errno)
		binary.LittleEndian.PutUint32(e[10:], uint32(sub[8]))
		written++
	}
	var reads [][]byte
	for i := range n {
		sub := subs[i*48 : i*48+48]
		switch sub[8] {
		case wasiEventClock:
			switch binary.LittleEndian.Uint16(sub[40:]) { // subclockflags
			case 0:
			case 1: // absolute time
				return wasiENOTSUP
			default:
				return wasiEINVAL
			}
			event(sub, 0)
		case wasiEventFdRead, wasiEventFdWrite:
			fd := int32(binary.LittleEndian.Uint32(sub[16:]))
			switch {
			case fd < 0:
				return wasiEBADF
			case !c.open(uint64(uint32(fd))):
				event(sub, wasiEBADF)
			case sub[8] == wasiEventFdWrite:
				event(sub, wasiENOTSUP)
			default:
				reads = append(reads, sub) // ready once stdin is: it always is, empty
			}
		default:
			return wasiEINVAL
		}
	}
	if len(reads) > 0 {
		if !c.open(0) {
			return wasiEBADF
		}
		for _, sub := range reads {
			event(sub, 0)
		}
	}
	return wasiESUCCESS
}

func (c *wasiState) randomGet(s []uint64) uint32 {
	b, ok := c.mem().Read(uint32(s[0]), uint32(s[1]))
	if !ok {
		return wasiEFAULT
	}
	if _, err := io.ReadAtLeast(c.rand, b, len(b)); err != nil {
		return wasiEIO
	}
	return wasiESUCCESS
}
