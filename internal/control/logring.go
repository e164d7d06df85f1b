package control

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// MaxLogLine is the longest log line a LogRing keeps; a longer one is cut
// and marked, so one runaway line cannot hold the ring's memory.
const MaxLogLine = 8 << 10

// LogRing keeps the last lines written to it, for `nichost logs`: the
// daemon tees its log output into it. It is an io.Writer that splits what
// it is given into lines (a line may arrive in several writes), and it
// hands new lines to followers. It is safe for concurrent use.
type LogRing struct {
	mu      sync.Mutex
	lines   []string // a ring of cap lines; next is the oldest once full
	next    int
	full    bool
	partial []byte // the start of a line not yet ended by '\n'
	cut     bool   // partial lost bytes to MaxLogLine
	seq     uint64 // lines written so far
	subs    map[*logSub]struct{}
}

type logSub struct {
	ch      chan LogLine
	dropped uint64
}

// LogLine is one line of a LogRing, numbered from 1 in the order written.
// Dropped counts the lines before it that a follower too slow to keep up
// did not get.
type LogLine struct {
	Seq     uint64
	Text    string
	Dropped uint64
}

// NewLogRing makes a ring of the last n lines (at least 1).
func NewLogRing(n int) *LogRing {
	return &LogRing{lines: make([]string, max(n, 1)), subs: map[*logSub]struct{}{}}
}

// Write adds p's complete lines; the rest waits for the next Write. It
// never fails and never blocks on a follower.
func (r *LogRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := MaxLogLine - len(r.partial)
			r.partial = append(r.partial, p[:min(len(p), room)]...)
			r.cut = r.cut || len(p) > room
			break
		}
		line := p[:i]
		if len(r.partial) > 0 {
			line = append(r.partial, line...)
			r.partial = r.partial[:0]
		}
		r.add(line, r.cut)
		r.cut = false
		p = p[i+1:]
	}
	return n, nil
}

func (r *LogRing) add(line []byte, cut bool) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxLogLine {
		line, cut = line[:MaxLogLine], true
	}
	if cut { // not inside a character
		i := len(line) - 1
		for i > 0 && i > len(line)-utf8.UTFMax && !utf8.RuneStart(line[i]) {
			i--
		}
		if i >= 0 && !utf8.FullRune(line[i:]) {
			line = line[:i]
		}
	}
	text := string(line)
	if cut {
		text += " [line cut]"
	}
	r.seq++
	r.lines[r.next] = text
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
	for s := range r.subs {
		select {
		case s.ch <- LogLine{Seq: r.seq, Text: text, Dropped: s.dropped}:
			s.dropped = 0
		default:
			s.dropped++
		}
	}
}

// Cap is how many lines the ring keeps.
func (r *LogRing) Cap() int { return len(r.lines) }

// Lines returns the last n lines kept (all of them for n < 0), oldest
// first.
func (r *LogRing) Lines(n int) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last(n)
}

func (r *LogRing) last(n int) []LogLine {
	have := r.next
	if r.full {
		have = len(r.lines)
	}
	if n < 0 || n > have {
		n = have
	}
	out := make([]LogLine, n)
	for i := range out {
		// The i-th of the last n lines, counting back from the newest.
		j := (r.next - n + i + len(r.lines)) % len(r.lines)
		out[i] = LogLine{Seq: r.seq - uint64(n-1-i), Text: r.lines[j]}
	}
	return out
}

// Subscribe returns the last n lines and, from the same instant, a channel
// of the lines written after them, so that nothing is missed or repeated
// between the two; and the function that ends the subscription and closes
// the channel. A follower that falls more than buffer lines behind loses
// the newest ones, and the next line it gets says how many in Dropped.
func (r *LogRing) Subscribe(n, buffer int) ([]LogLine, <-chan LogLine, func()) {
	s := &logSub{ch: make(chan LogLine, max(buffer, 1))}
	r.mu.Lock()
	recent := r.last(n)
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	var once sync.Once
	return recent, s.ch, func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, s)
			close(s.ch)
			r.mu.Unlock()
		})
	}
}
