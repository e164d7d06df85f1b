package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nichost/nichost/host"
)

// EventOpen is the kind of the first event of every event stream, sent
// once the subscription is in place: whatever happens after it arrives is
// in the stream. It carries no plugin, NIC or data, and Seq 0.
const EventOpen = "open"

// Event is a host.Event as the event stream carries it (its JSON form is
// the "data:" of each SSE event). Data holds ABI values (an int is an
// int64).
type Event struct {
	Seq        uint64         `json:"seq"`
	Time       time.Time      `json:"time"`
	Kind       string         `json:"kind"`
	Plugin     string         `json:"plugin,omitempty"`
	NIC        string         `json:"nic,omitempty"`
	Generation int            `json:"generation,omitempty"`
	Message    string         `json:"message,omitempty"`
	Data       map[string]any `json:"-"`
	// Missed counts the events this stream lost just before this one
	// because the client read too slowly.
	Missed uint64 `json:"missed,omitempty"`
}

// MarshalJSON writes the event with Data in the API's value form.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // without this method
	w := struct {
		plain
		Data json.RawMessage `json:"data,omitempty"`
	}{plain: plain(e)}
	if e.Data != nil {
		raw, err := EncodeValue(e.Data)
		if err != nil {
			return nil, err
		}
		w.Data = raw
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var w struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event(w.plain)
	if len(w.Data) > 0 && string(w.Data) != "null" {
		v, err := DecodeValue(w.Data)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: an event's data is a dict, not %T", ErrValue, v)
		}
		e.Data = m
	}
	return nil
}

func eventOf(ev host.Event) Event {
	return Event{Seq: ev.Seq, Time: ev.Time, Kind: ev.Kind, Plugin: ev.Plugin, NIC: ev.NIC,
		Generation: ev.Generation, Message: ev.Message, Data: ev.Data, Missed: ev.Missed}
}

// stream is one open server-sent event stream.
type stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf bytes.Buffer
}

// openStream starts an SSE response, or answers 503 when MaxStreams are
// open; done must be called when the stream ends.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (st *stream, done func(), ok bool) {
	if s.streams.Add(1) > MaxStreams {
		s.streams.Add(-1)
		s.fail(w, r, &statusError{http.StatusServiceUnavailable, apiError{Type: TypeOSError, Errno: 11, // EAGAIN
			Message: fmt.Sprintf("%d event and log streams are open, the most the daemon serves; close one", MaxStreams)}})
		return nil, nil, false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &stream{w: w, rc: http.NewResponseController(w)}, func() { s.streams.Add(-1) }, true
}

// send writes one SSE event and flushes it. An error means the client is
// gone.
func (st *stream) send(id uint64, kind string, data []byte) error {
	st.buf.Reset()
	if id > 0 {
		fmt.Fprintf(&st.buf, "id: %d\n", id)
	}
	if kind != "" {
		fmt.Fprintf(&st.buf, "event: %s\n", oneLine(kind))
	}
	fmt.Fprintf(&st.buf, "data: %s\n\n", data)
	return st.flush()
}

// comment writes an SSE comment, which clients ignore: the heartbeat that
// finds a client that went away without closing.
func (st *stream) comment(text string) error {
	st.buf.Reset()
	fmt.Fprintf(&st.buf, ": %s\n\n", text)
	return st.flush()
}

func (st *stream) flush() error {
	if _, err := st.w.Write(st.buf.Bytes()); err != nil {
		return err
	}
	return st.rc.Flush()
}

// oneLine keeps a field of an SSE event on its line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// events is GET /v1/events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	st, done, ok := s.openStream(w, r)
	if !ok {
		return
	}
	defer done()
	ch, unsubscribe := s.h.Subscribe(256)
	defer unsubscribe()
	open, _ := json.Marshal(Event{Kind: EventOpen, Time: time.Now()})
	if st.send(0, EventOpen, open) != nil {
		return
	}
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok { // the host closed
				return
			}
			data, err := json.Marshal(eventOf(ev))
			if err != nil {
				s.log.Warn("control: an event cannot be written as JSON", "kind", ev.Kind, "err", err)
				continue
			}
			if st.send(ev.Seq, ev.Kind, data) != nil {
				return
			}
		case <-tick.C:
			if st.comment("heartbeat") != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}

// DefaultLogLines is how many recent lines GET /v1/logs sends when the
// request does not say.
const DefaultLogLines = 100

// logs is GET /v1/logs?lines=N&follow=1.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	if s.o.Logs == nil {
		s.fail(w, r, &statusError{http.StatusNotImplemented, apiError{Type: TypeNotImplementedError,
			Message: "this daemon keeps no log lines to serve"}})
		return
	}
	q := r.URL.Query()
	lines := DefaultLogLines
	if v := q.Get("lines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, r, badRequest("lines=%q: want a number of lines, 0 or more", clip(v)))
			return
		}
		lines = n
	}
	follow := false
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.fail(w, r, badRequest("follow=%q: want 1 or 0 (true or false)", clip(v)))
			return
		}
		follow = b
	}
	var recent []LogLine
	var ch <-chan LogLine
	if follow {
		var unsubscribe func()
		recent, ch, unsubscribe = s.o.Logs.Subscribe(lines, 1024)
		defer unsubscribe()
	} else {
		recent = s.o.Logs.Lines(lines)
	}
	st, done, ok := s.openStream(w, r)
	if !ok {
		return
	}
	defer done()
	for _, l := range recent {
		if st.send(l.Seq, "", []byte(oneLine(l.Text))) != nil {
			return
		}
	}
	if !follow {
		return
	}
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case l := <-ch:
			if l.Dropped > 0 {
				msg := fmt.Sprintf("[%d log lines dropped here: the reader fell behind]", l.Dropped)
				if st.send(0, "dropped", []byte(msg)) != nil {
					return
				}
			}
			if st.send(l.Seq, "", []byte(oneLine(l.Text))) != nil {
				return
			}
		case <-tick.C:
			if st.comment("heartbeat") != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}
