package benchkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/simnet"
)

// Duplex is a TCP connection between the host and the router carrying a
// pseudo-random stream each way, each checked byte for byte by its reader.
type Duplex struct {
	clock      func() time.Duration
	up, down   atomic.Int64 // bytes received by the router (up) and by the host (down)
	mu         sync.Mutex
	samples    []streamSample
	quit       chan struct{}
	errs       chan error
	conns      []net.Conn
	wg         sync.WaitGroup
	total      int64   // bytes each way; 0: until stopped
	rate       float64 // bytes per second each way; 0: as fast as it goes
	sampleStop chan struct{}
	stopOnce   sync.Once
}

type streamSample struct {
	t        time.Duration
	up, down int64
}

// Up is the bytes the router received so far; Down, the host.
func (d *Duplex) Up() int64   { return d.up.Load() }
func (d *Duplex) Down() int64 { return d.down.Load() }

// StartDuplex connects to the router and starts both streams; total bytes
// each way (0: until Stop), at rate bytes a second each way (0: as fast
// as they go).
func (r *ReloadRig) StartDuplex(ctx context.Context, total int64, rate float64) (*Duplex, error) {
	r.port++ // a connection's port may linger after it closed
	addr := net.JoinHostPort(simnet.RouterAddr.String(), fmt.Sprint(9400+r.port))
	ln, err := r.Router.NIC.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := r.Host.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := <-accepted
	if s == nil {
		c.Close()
		return nil, errors.New("the router accepted no connection")
	}
	d := &Duplex{clock: r.mirror.now, quit: make(chan struct{}), errs: make(chan error, 4), conns: []net.Conn{c, s}, total: total, rate: rate, sampleStop: make(chan struct{})}
	d.wg.Add(4)
	go d.send(c, 1)
	go d.send(s, 2)
	go d.receive(s, 1, &d.up)
	go d.receive(c, 2, &d.down)
	go d.sampleLoop()
	return d, nil
}

const (
	chunkSize = 64 << 10
	paceChunk = 8 << 10 // what a paced sender writes at a time
)

func (d *Duplex) send(c net.Conn, seed byte) {
	defer d.wg.Done()
	rng := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, chunkSize)
	var sent int64
	start := time.Now()
	for d.total == 0 || sent < d.total {
		select {
		case <-d.quit:
			return
		default:
		}
		if d.rate > 0 {
			// Pacing: the stream's own clock, not a wait for an event.
			if ahead := time.Duration(float64(sent)/d.rate*1e9) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		n := int64(len(buf))
		if d.rate > 0 {
			n = paceChunk
		}
		if d.total > 0 {
			n = min(n, d.total-sent)
		}
		rng.Read(buf[:n])
		if _, err := c.Write(buf[:n]); err != nil {
			select {
			case <-d.quit:
			default:
				d.errs <- fmt.Errorf("sending (seed %d) after %d bytes: %w", seed, sent, err)
			}
			return
		}
		sent += n
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
}

func (d *Duplex) receive(c net.Conn, seed byte, count *atomic.Int64) {
	defer d.wg.Done()
	rng := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, chunkSize)
	want := make([]byte, chunkSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			rng.Read(want[:n])
			if !bytes.Equal(buf[:n], want[:n]) {
				d.errs <- fmt.Errorf("stream %d: the bytes after offset %d differ from those sent", seed, count.Load())
				return
			}
			count.Add(int64(n))
		}
		if errors.Is(err, io.EOF) {
			if d.total > 0 && count.Load() != d.total {
				d.errs <- fmt.Errorf("stream %d ended after %d of %d bytes", seed, count.Load(), d.total)
			}
			return
		}
		if err != nil {
			select {
			case <-d.quit:
			default:
				d.errs <- fmt.Errorf("stream %d after %d bytes: %w", seed, count.Load(), err)
			}
			return
		}
	}
}

// sampleLoop records the byte counts every few milliseconds.
func (d *Duplex) sampleLoop() {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		d.mu.Lock()
		d.samples = append(d.samples, streamSample{t: d.clock(), up: d.up.Load(), down: d.down.Load()})
		d.mu.Unlock()
		select {
		case <-d.sampleStop:
			return
		case <-tick.C:
		}
	}
}

// at returns the counts at time t (the last streamSample not after it).
func (d *Duplex) at(t time.Duration) streamSample {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, _ := slices.BinarySearchFunc(d.samples, t, func(s streamSample, t time.Duration) int { return int(s.t - t) })
	if i >= len(d.samples) {
		i = len(d.samples) - 1
	}
	if i > 0 && d.samples[i].t > t {
		i--
	}
	return d.samples[i]
}

// rates returns the bytes per second up and down between t0 and t1.
func (d *Duplex) rates(t0, t1 time.Duration) (up, down float64) {
	a, b := d.at(t0), d.at(t1)
	sec := (b.t - a.t).Seconds()
	if sec <= 0 {
		return 0, 0
	}
	return float64(b.up-a.up) / sec, float64(b.down-a.down) / sec
}

// Err returns the first error either stream had, if any.
func (d *Duplex) Err() error {
	select {
	case err := <-d.errs:
		return err
	default:
		return nil
	}
}

// Wait waits for both streams to end (total bytes each way) and returns
// the first error either had.
func (d *Duplex) Wait() error {
	d.wg.Wait()
	d.stopOnce.Do(func() { close(d.sampleStop) })
	for _, c := range d.conns {
		c.Close()
	}
	return d.Err()
}

// Stop ends the streams.
func (d *Duplex) Stop() {
	close(d.quit)
	for _, c := range d.conns {
		c.Close()
	}
	d.wg.Wait()
	d.stopOnce.Do(func() { close(d.sampleStop) })
}
