package control

import (
	"slices"
	"strings"
	"testing"
)

func texts(ls []LogLine) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Text)
	}
	return out
}

func TestLogRing_Lines(t *testing.T) {
	r := NewLogRing(3)
	r.Write([]byte("a\nb\r\nc"))
	if got := texts(r.Lines(-1)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("lines %q: want the two complete ones, without \\r", got)
	}
	r.Write([]byte("c\nd\ne\n"))
	got := r.Lines(-1)
	if !slices.Equal(texts(got), []string{"cc", "d", "e"}) || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("lines %+v: want the last 3, numbered 3 to 5", got)
	}
	if got := texts(r.Lines(2)); !slices.Equal(got, []string{"d", "e"}) {
		t.Fatalf("Lines(2) = %q", got)
	}
	if got := r.Lines(0); len(got) != 0 {
		t.Fatalf("Lines(0) = %+v", got)
	}
	if got := texts(r.Lines(10)); len(got) != 3 {
		t.Fatalf("Lines(10) of a ring of 3 = %q", got)
	}
}

func TestLogRing_LongLine(t *testing.T) {
	r := NewLogRing(2)
	long := strings.Repeat("x", 3*MaxLogLine)
	for i := 0; i < len(long); i += 1000 { // in pieces, as a writer may
		r.Write([]byte(long[i:min(i+1000, len(long))]))
	}
	r.Write([]byte("\nnext\n"))
	got := r.Lines(-1)
	if len(got) != 2 || len(got[0].Text) > MaxLogLine+len(" [line cut]") || !strings.HasSuffix(got[0].Text, "[line cut]") || got[1].Text != "next" {
		t.Fatalf("a line of %d bytes kept as %d bytes %.20q..., then %q", len(long), len(got[0].Text), got[0].Text, got[1].Text)
	}
}

func TestLogRing_Subscribe(t *testing.T) {
	r := NewLogRing(10)
	r.Write([]byte("old1\nold2\n"))
	recent, ch, stop := r.Subscribe(1, 2)
	if !slices.Equal(texts(recent), []string{"old2"}) {
		t.Fatalf("recent %q", texts(recent))
	}
	r.Write([]byte("n1\nn2\nn3\nn4\n")) // two more than the buffer
	a, b := <-ch, <-ch
	if a.Text != "n1" || b.Text != "n2" || a.Seq != 3 {
		t.Fatalf("followed %+v %+v", a, b)
	}
	r.Write([]byte("n5\n"))
	c := <-ch
	if c.Text != "n5" || c.Dropped != 2 {
		t.Fatalf("after falling behind: %+v, want n5 with 2 dropped", c)
	}
	stop()
	if _, open := <-ch; open {
		t.Fatal("the channel is open after stop")
	}
	stop()                     // twice is harmless
	r.Write([]byte("after\n")) // nobody to tell, nothing blocks
}
