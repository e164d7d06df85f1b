package guest_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// firmwareDriver is a recorder that needs a blob named "firmware".
type firmwareDriver struct{ recorder }

func (d *firmwareDriver) Describe() abi.Description {
	desc := d.recorder.Describe()
	desc.Buses = []abi.BusNeed{{Name: "firmware", Kind: abi.BusBlob}}
	return desc
}

// failingBlob is a bus.Blob whose reads fail.
type failingBlob struct{}

func (failingBlob) Size() int64                       { return 100 }
func (failingBlob) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk gone") }

func blobEnv(t *testing.T, v any) (*guesttest.Host, guest.Blob) {
	t.Helper()
	d := &firmwareDriver{}
	h := guesttest.New(t, d, guesttest.Options{Buses: map[string]any{"firmware": v}})
	b, err := d.env.Blob("firmware")
	if err != nil {
		t.Fatal(err)
	}
	return h, b
}

func TestBlob_ReadAt(t *testing.T) {
	fw := make([]byte, 2*abi.MaxBlobRead+12345) // more than a control message carries, read in pieces
	for i := range fw {
		fw[i] = byte(i * 7)
	}
	h, b := blobEnv(t, fw)
	if n, err := b.Size(); n != int64(len(fw)) || err != nil {
		t.Fatalf("Size = %d, %v; want %d", n, err, len(fw))
	}
	tests := []struct {
		name    string
		off     int64
		len     int
		want    int
		wantErr error
	}{
		{"all of it", 0, len(fw), len(fw), nil},
		{"a piece inside", 1000, 4096, 4096, nil},
		{"across the end", int64(len(fw)) - 10, 64, 10, io.EOF},
		{"at the end", int64(len(fw)), 64, 0, io.EOF},
		{"past the end", int64(len(fw)) + 1, 64, 0, io.EOF},
		{"nothing", 5, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := h.HostCalls(abi.ImportBlobRead)
			p := make([]byte, tt.len)
			n, err := b.ReadAt(p, tt.off)
			if n != tt.want || err != tt.wantErr {
				t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d, %v", tt.len, tt.off, n, err, tt.want, tt.wantErr)
			}
			if n > 0 && !bytes.Equal(p[:n], fw[tt.off:tt.off+int64(n)]) {
				t.Fatal("ReadAt read other bytes than the blob's")
			}
			if max := (tt.len+abi.MaxBlobRead-1)/abi.MaxBlobRead + 1; h.HostCalls(abi.ImportBlobRead)-calls > max {
				t.Fatalf("%d blob_read calls for %d bytes", h.HostCalls(abi.ImportBlobRead)-calls, tt.len)
			}
		})
	}
	// The whole blob through the standard library.
	all, err := io.ReadAll(io.NewSectionReader(b, 0, int64(len(fw))))
	if err != nil || !bytes.Equal(all, fw) {
		t.Fatalf("io.ReadAll of a SectionReader: %d bytes, %v", len(all), err)
	}
}

func TestBlob_Errors(t *testing.T) {
	_, b := blobEnv(t, failingBlob{})
	if _, err := b.ReadAt(make([]byte, 10), 0); !errors.Is(err, abi.OSError(abi.EIO, "")) {
		t.Errorf("a read the host cannot make: %v, want OSError EIO", err)
	}
	if _, err := b.ReadAt(make([]byte, 10), -1); !errors.Is(err, abi.OSError(abi.EINVAL, "")) {
		t.Errorf("a negative offset: %v, want OSError EINVAL", err)
	}
	d := &recorder{}
	guesttest.New(t, d, guesttest.Options{})
	if _, err := d.env.Blob("firmware"); !errors.Is(err, abi.OSError(abi.EBADF, "")) {
		t.Errorf("a blob not granted: %v, want OSError EBADF", err)
	}
}
