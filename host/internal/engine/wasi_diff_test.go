//go:build wasmtime

package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// The wasmtime engine's WASI (wasmtime_wasi.go) answers as wazero's does:
// the same module calls every function with the same arguments on both
// engines, and each call must return the same errno, leave guest memory
// the same and write the same output. A plugin cannot tell the engines
// apart through WASI.

// wasiDiffMod imports every WASI function but proc_exit and exports each
// as w_NAME, forwarding its parameters.
func wasiDiffMod() wasmMod {
	m := wasmMod{exports: map[string]int{"nic_abi_version": len(wasiFuncs)}, pages: 1}
	m.funcs = append(m.funcs, abiVersion)
	for i, f := range wasiFuncs {
		m.imports = append(m.imports, wasmImport{wasiName, f.name, f.params + ":i"})
		var body []byte
		for p := range f.params {
			body = append(body, get(p)...)
		}
		m.funcs = append(m.funcs, wasmFunc{sig: f.params + ":i", body: append(body, call(i)...)})
		m.exports["w_"+f.name] = len(wasiFuncs) + 1 + i
	}
	return m
}

// The memory every case starts from: a pattern, iovec arrays, data and
// paths at fixed places.
const (
	dIovsEmpty = 0x100 // 2 empty iovecs
	dIovsOne   = 0x110 // ("hello\n")
	dIovsOOB   = 0x118 // (0xfffe, 6): past the end of memory
	dIovsTwo   = 0x120 // ("hello\n"), (empty)
	dIovsEmOOB = 0x130 // (0x10001, 0): empty, but past the end
	dData      = 0x1000
	dPath      = 0x2000 // "a/b"
	dPathAbs   = 0x2010 // "/abs"
	dPathUp    = 0x2020 // "../x"
	dSubs      = 0x3000
	dEvents    = 0x4000
	dRes       = 0x10 // results
	dEnd       = 0x10000
)

func wasiImage() []byte {
	img := bytes.Repeat([]byte{0x5a}, dEnd)
	iov := func(at, p, l uint32) {
		binary.LittleEndian.PutUint32(img[at:], p)
		binary.LittleEndian.PutUint32(img[at+4:], l)
	}
	iov(dIovsEmpty, dData, 0)
	iov(dIovsEmpty+8, dData, 0)
	iov(dIovsOne, dData, 6)
	iov(dIovsOOB, 0xfffe, 6)
	iov(dIovsTwo, dData, 6)
	iov(dIovsTwo+8, dData, 0)
	iov(dIovsEmOOB, 0x10001, 0)
	copy(img[dData:], "hello\n")
	copy(img[dPath:], "a/b")
	copy(img[dPathAbs:], "/abs")
	copy(img[dPathUp:], "../x")
	return img
}

// sub writes poll_oneoff subscription i: its userdata, type, fd (for
// fd_read and fd_write) or clock flags.
func sub(img []byte, i int, typ byte, fdOrFlags uint32) {
	s := img[dSubs+48*i:]
	clear(s[:48])
	binary.LittleEndian.PutUint64(s, 0x1111*uint64(i+1))
	s[8] = typ
	if typ == wasiEventClock {
		binary.LittleEndian.PutUint64(s[24:], 1000) // relative 1 µs
		binary.LittleEndian.PutUint16(s[40:], uint16(fdOrFlags))
	} else {
		binary.LittleEndian.PutUint32(s[16:], fdOrFlags)
	}
}

type wasiCall struct {
	fn   string
	args []uint64
}

type wasiCase struct {
	name     string
	setup    func(img []byte)
	calls    []wasiCall
	volatile bool // the call writes what differs between runs (time, random bytes)
}

func c(fn string, args ...uint64) wasiCall { return wasiCall{fn, args} }

const neg1 = 0xffffffff // an i32 -1

func wasiCases() []wasiCase {
	var cs []wasiCase
	add := func(name string, calls ...wasiCall) { cs = append(cs, wasiCase{name: name, calls: calls}) }
	fds := []uint64{0, 1, 2, 3, neg1}
	for _, fn := range []string{"args", "environ"} {
		add(fn+"_get", c(fn+"_get", dRes, dRes+8))
		add(fn+"_get at the end", c(fn+"_get", dEnd, dEnd))
		add(fn+"_get past the end", c(fn+"_get", dEnd+1, 0))
		add(fn+"_sizes_get", c(fn+"_sizes_get", dRes, dRes+8))
		add(fn+"_sizes_get out of memory", c(fn+"_sizes_get", dEnd-2, dRes))
	}
	for _, id := range []uint64{0, 1, 2, 3, neg1} {
		add(fmt.Sprintf("clock_res_get %d", id), c("clock_res_get", id, dRes))
		add(fmt.Sprintf("clock_res_get %d out of memory", id), c("clock_res_get", id, dEnd-4))
		if id > 1 {
			add(fmt.Sprintf("clock_time_get %d", id), c("clock_time_get", id, 0, dRes))
		}
		add(fmt.Sprintf("clock_time_get %d out of memory", id), c("clock_time_get", id, 0, dEnd-4))
	}
	cs = append(cs, wasiCase{name: "clock_time_get realtime", calls: []wasiCall{c("clock_time_get", 0, 0, dRes)}, volatile: true},
		wasiCase{name: "clock_time_get monotonic", calls: []wasiCall{c("clock_time_get", 1, 1, dRes)}, volatile: true})
	for _, fd := range fds {
		f := fmt.Sprintf(" fd %d", int32(fd))
		for _, adv := range []uint64{0, 5, 6, 0x105} {
			add(fmt.Sprintf("fd_advise%s %#x", f, adv), c("fd_advise", fd, 0, 0, adv))
		}
		add("fd_allocate 0"+f, c("fd_allocate", fd, 0, 0))
		add("fd_allocate 1"+f, c("fd_allocate", fd, 0, 1))
		add("fd_allocate wrapping to 0"+f, c("fd_allocate", fd, 1<<63, 1<<63))
		add("fd_allocate negative"+f, c("fd_allocate", fd, 0, 1<<63))
		add("fd_close"+f, c("fd_close", fd), c("fd_close", fd))
		add("fd_datasync"+f, c("fd_datasync", fd))
		add("fd_sync"+f, c("fd_sync", fd))
		add("fd_fdstat_get"+f, c("fd_fdstat_get", fd, dRes))
		add("fd_fdstat_get out of memory"+f, c("fd_fdstat_get", fd, dEnd-8))
		for _, fl := range []uint64{0, 1, 2, 4, 8, 16, 0x10001} {
			add(fmt.Sprintf("fd_fdstat_set_flags %#x%s", fl, f), c("fd_fdstat_set_flags", fd, fl))
		}
		add("fd_fdstat_set_rights"+f, c("fd_fdstat_set_rights", fd, 0, 0))
		add("fd_filestat_get"+f, c("fd_filestat_get", fd, dRes))
		add("fd_filestat_get out of memory"+f, c("fd_filestat_get", fd, dEnd-32))
		add("fd_filestat_set_size"+f, c("fd_filestat_set_size", fd, 0))
		for _, fl := range []uint64{3, 12, 5} { // (fd, 0 flags) would make wazero dereference its missing file system
			if fd <= 2 && fl == 5 {
				continue // likewise
			}
			add(fmt.Sprintf("fd_filestat_set_times %d%s", fl, f), c("fd_filestat_set_times", fd, 0, 0, fl))
		}
		add("fd_prestat_get"+f, c("fd_prestat_get", fd, dRes))
		add("fd_prestat_get out of memory"+f, c("fd_prestat_get", fd, dEnd-4))
		add("fd_prestat_dir_name"+f, c("fd_prestat_dir_name", fd, dRes, 0))
		add("fd_prestat_dir_name 1"+f, c("fd_prestat_dir_name", fd, dRes, 1))
		add("fd_prestat_dir_name past the end"+f, c("fd_prestat_dir_name", fd, dEnd+1, 0))
		for _, io := range []struct {
			name string
			iovs uint64
			n    uint64
		}{
			{"none", dIovsOne, 0}, {"empty", dIovsEmpty, 2}, {"one", dIovsOne, 1}, {"two", dIovsTwo, 2},
			{"out of memory", dIovsOOB, 1}, {"empty out of memory", dIovsEmOOB, 1},
			{"iovecs out of memory", dEnd - 4, 1}, {"1025", dIovsEmpty, 1025},
		} {
			add("fd_read "+io.name+f, c("fd_read", fd, io.iovs, io.n, dRes))
			add("fd_pread "+io.name+f, c("fd_pread", fd, io.iovs, io.n, 0, dRes))
			add("fd_write "+io.name+f, c("fd_write", fd, io.iovs, io.n, dRes))
			add("fd_pwrite "+io.name+f, c("fd_pwrite", fd, io.iovs, io.n, 0, dRes))
		}
		add("fd_read result out of memory"+f, c("fd_read", fd, dIovsEmpty, 2, dEnd-2))
		add("fd_write result out of memory"+f, c("fd_write", fd, dIovsOne, 1, dEnd-2))
		add("fd_write after fd_close"+f, c("fd_close", fd), c("fd_write", fd, dIovsOne, 1, dRes))
		add("fd_readdir"+f, c("fd_readdir", fd, dRes, 24, 0, dRes+32))
		add("fd_readdir small"+f, c("fd_readdir", fd, dRes, 23, 0, dRes+32))
		add("fd_renumber"+f, c("fd_renumber", fd, 5))
		add("fd_renumber to -1"+f, c("fd_renumber", fd, neg1))
		add("fd_seek"+f, c("fd_seek", fd, 0, 0, dRes))
		add("fd_tell"+f, c("fd_tell", fd, dRes))
		for _, p := range []struct {
			name string
			at   uint64
			n    uint64
		}{{"a/b", dPath, 3}, {"/abs", dPathAbs, 4}, {"../x", dPathUp, 4}, {"empty", dPath, 0}, {"out of memory", dEnd - 1, 3}} {
			pf := " " + p.name + f
			add("path_create_directory"+pf, c("path_create_directory", fd, p.at, p.n))
			add("path_filestat_get"+pf, c("path_filestat_get", fd, 1, p.at, p.n, dRes))
			add("path_filestat_set_times"+pf, c("path_filestat_set_times", fd, 0, p.at, p.n, 0, 0, 0))
			add("path_filestat_set_times bad flags"+pf, c("path_filestat_set_times", fd, 0, p.at, p.n, 0, 0, 3))
			add("path_link"+pf, c("path_link", fd, 0, p.at, p.n, fd, dPath, 3))
			add("path_open"+pf, c("path_open", fd, 0, p.at, p.n, 0, 0, 0, 0, dRes))
			add("path_readlink"+pf, c("path_readlink", fd, p.at, p.n, dRes, 16, dRes+32))
			add("path_readlink no buffer"+pf, c("path_readlink", fd, p.at, p.n, dRes, 0, dRes+32))
			add("path_remove_directory"+pf, c("path_remove_directory", fd, p.at, p.n))
			add("path_rename"+pf, c("path_rename", fd, p.at, p.n, fd, dPath, 3))
			add("path_symlink"+pf, c("path_symlink", p.at, p.n, fd, dPath, 3))
			add("path_unlink_file"+pf, c("path_unlink_file", fd, p.at, p.n))
		}
		add("sock_accept"+f, c("sock_accept", fd, 0, dRes))
		add("sock_recv"+f, c("sock_recv", fd, dIovsOne, 1, 0, dRes, dRes+8))
		add("sock_send"+f, c("sock_send", fd, dIovsOne, 1, 0, dRes))
		add("sock_send flags"+f, c("sock_send", fd, dIovsOne, 1, 1, dRes))
		add("sock_shutdown"+f, c("sock_shutdown", fd, 1))
	}
	add("proc_raise", c("proc_raise", 9))
	add("sched_yield", c("sched_yield"))
	add("random_get none", c("random_get", dRes, 0))
	add("random_get out of memory", c("random_get", dEnd-8, 16))
	add("random_get over the budget", c("random_get", 0, maxRandomPerCall+1))
	cs = append(cs, wasiCase{name: "random_get", calls: []wasiCall{c("random_get", dRes, 16)}, volatile: true})

	poll := func(name string, n uint64, subs ...[2]uint32) {
		cs = append(cs, wasiCase{name: "poll_oneoff " + name, setup: func(img []byte) {
			for i, s := range subs {
				sub(img, i, byte(s[0]), s[1])
			}
		}, calls: []wasiCall{c("poll_oneoff", dSubs, dEvents, n, dRes)}})
	}
	poll("none", 0)
	poll("clock", 1, [2]uint32{wasiEventClock, 0})
	poll("clock abstime", 1, [2]uint32{wasiEventClock, 1})
	poll("clock bad flags", 1, [2]uint32{wasiEventClock, 2})
	for _, fd := range []uint32{0, 1, 3, neg1} {
		poll(fmt.Sprintf("fd_read %d", int32(fd)), 1, [2]uint32{wasiEventFdRead, fd})
		poll(fmt.Sprintf("fd_write %d", int32(fd)), 1, [2]uint32{wasiEventFdWrite, fd})
	}
	poll("mixed", 5, [2]uint32{wasiEventFdRead, 0}, [2]uint32{wasiEventClock, 0}, [2]uint32{wasiEventFdWrite, 1},
		[2]uint32{wasiEventFdRead, 5}, [2]uint32{wasiEventFdRead, 2})
	poll("unknown type", 2, [2]uint32{wasiEventClock, 0}, [2]uint32{3, 0})
	poll("1025", 1025)
	cs = append(cs, wasiCase{name: "poll_oneoff out of memory", calls: []wasiCall{c("poll_oneoff", dEnd-48, dEvents, 2, dRes)}},
		wasiCase{name: "poll_oneoff events out of memory", setup: func(img []byte) { sub(img, 0, wasiEventClock, 0) }, calls: []wasiCall{c("poll_oneoff", dSubs, dEnd-16, 1, dRes)}},
		wasiCase{name: "poll_oneoff stdin closed", setup: func(img []byte) { sub(img, 0, wasiEventFdRead, 1) },
			calls: []wasiCall{c("fd_close", 0), c("poll_oneoff", dSubs, dEvents, 1, dRes)}})
	return cs
}

func TestWASI_SameAnswers(t *testing.T) {
	engines := []string{Wazero, Wasmtime}
	var mods [2]Module
	for i, e := range engines {
		m, err := newRuntime(t, e, 16<<20).Compile(context.Background(), wasiDiffMod().bytes())
		if err != nil {
			t.Fatal(err)
		}
		mods[i] = m
	}
	cases := wasiCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			type outcome struct {
				errnos []uint64
				mem    []byte
				said   string
			}
			var got [2]outcome
			for i, e := range engines {
				inst, err := mods[i].Instantiate(context.Background(), nil, Output{})
				if err != nil {
					t.Fatal(err)
				}
				defer inst.Close(context.Background())
				w := inst.(testInstance)
				img := wasiImage()
				if tc.setup != nil {
					tc.setup(img)
				}
				writeMem(t, w, 0, img)
				for _, call := range tc.calls {
					rc, err := w.rawCall(ctxFor(10*time.Second), "w_"+call.fn, call.args...)
					if err != nil {
						t.Fatalf("%s: %s%v: %v", e, call.fn, call.args, err)
					}
					got[i].errnos = append(got[i].errnos, rc)
				}
				got[i].mem = bytes.Clone(readMem(t, w, 0, dEnd))
				got[i].said = w.outputTail().String()
			}
			if fmt.Sprint(got[0].errnos) != fmt.Sprint(got[1].errnos) {
				t.Fatalf("errno wazero %v, wasmtime %v", got[0].errnos, got[1].errnos)
			}
			if got[0].said != got[1].said {
				t.Fatalf("output wazero %q, wasmtime %q", got[0].said, got[1].said)
			}
			if !tc.volatile && !bytes.Equal(got[0].mem, got[1].mem) {
				for i := range got[0].mem {
					if got[0].mem[i] != got[1].mem[i] {
						t.Fatalf("memory differs from %#x: wazero % x, wasmtime % x", i, got[0].mem[i:min(i+16, dEnd)], got[1].mem[i:min(i+16, dEnd)])
					}
				}
			}
			if tc.volatile && !bytes.Equal(got[0].mem[:dRes], got[1].mem[:dRes]) {
				t.Fatal("a volatile call changed memory outside its result")
			}
		})
	}
	t.Logf("%d cases", len(cases))
}
