package tftp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readAll reads blocks in order until the short one and concatenates them.
func readAll(t *testing.T, r blockReader, blockSize int) []byte {
	t.Helper()
	var out []byte
	p := make([]byte, blockSize)
	for n := int64(1); ; n++ {
		k, err := r.readBlock(n, p)
		if err != nil {
			t.Fatalf("readBlock(%d): %v", n, err)
		}
		out = append(out, p[:k]...)
		if k < blockSize {
			return out
		}
	}
}

func TestOctetReader(t *testing.T) {
	for _, size := range []int{0, 1, 7, 8, 9, 16, 100} {
		data := bytes.Repeat([]byte("abcdefg"), 20)[:size]
		got := readAll(t, octetReader{bytes.NewReader(data)}, 8)
		if !bytes.Equal(got, data) {
			t.Errorf("size %d: got %q, want %q", size, got, data)
		}
	}
}

func TestNetasciiReader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"a\nb", "a\r\nb"},
		{"a\rb", "a\r\x00b"},
		{"a\r\nb", "a\r\x00\r\nb"},
		{"\n\n\n\n\n\n\n\n\n", strings.Repeat("\r\n", 9)},
		{"1234567\n", "1234567\r\n"}, // pair split across blocks of 8
		{"1234567\r", "1234567\r\x00"},
		{"123456\n", "123456\r\n"}, // exactly one block: an empty one follows
	}
	for _, tt := range tests {
		for _, bs := range []int{8, 9, 512} {
			got := readAll(t, newNetasciiReader(strings.NewReader(tt.in), 1), bs)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("netascii(%q) with blksize %d (-want +got):\n%s", tt.in, bs, diff)
			}
		}
	}
}

// TestNetasciiReaderRewind checks that a block of the current window can be
// read again, as after a lost packet, and yields the same bytes.
func TestNetasciiReaderRewind(t *testing.T) {
	in := strings.Repeat("line\r\nx\n\r", 50)
	const bs, window = 8, 4
	r := newNetasciiReader(strings.NewReader(in), window)
	p := make([]byte, bs)
	first := make(map[int64]string)
	for n := int64(1); n <= 12; n++ {
		k, err := r.readBlock(n, p)
		if err != nil {
			t.Fatal(err)
		}
		first[n] = string(p[:k])
	}
	// Blocks 9..12 are the newest window; go back to 9.
	for n := int64(9); n <= 12; n++ {
		k, err := r.readBlock(n, p)
		if err != nil {
			t.Fatalf("reread block %d: %v", n, err)
		}
		if string(p[:k]) != first[n] {
			t.Errorf("reread block %d = %q, first read %q", n, p[:k], first[n])
		}
	}
	if _, err := r.readBlock(3, p); err == nil {
		t.Errorf("block 3, far behind the window, could still be read")
	}
}
