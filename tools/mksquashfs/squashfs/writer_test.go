package squashfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"bazwrt/tools/fsspec"
)

type buffer struct{ b []byte }

func (w *buffer) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(w.b) {
		w.b = append(w.b, make([]byte, end-len(w.b))...)
	}
	return copy(w.b[off:], p), nil
}

func testEntries(t *testing.T) []fsspec.Entry {
	t.Helper()
	dir := t.TempDir()
	var entries []fsspec.Entry
	for i := range 40 {
		src := filepath.Join(dir, fmt.Sprint(i))
		// Every fourth file is the same; sizes straddle the block size.
		content := bytes.Repeat([]byte(fmt.Sprintf("file %d ", i%4)), 1000*(i%7))
		if err := os.WriteFile(src, content, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fsspec.Entry{Path: fmt.Sprintf("/d%d/f%d", i%3, i), Type: fsspec.File, Mode: 0o644, Source: src})
	}
	entries, err := fsspec.Complete(entries)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// The number of compressing goroutines must not show in the output.
func TestWorkersDeterministic(t *testing.T) {
	entries := testEntries(t)
	for _, c := range []Compression{Gzip, XZ} {
		var images [][]byte
		for _, workers := range []int{1, 2, 7} {
			var w buffer
			n, err := Write(&w, entries, Options{Compression: c, BlockSize: 4096, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if int(n) != len(w.b) || n%4096 != 0 {
				t.Errorf("%v: Write returned %d for %d bytes written; want them equal and a multiple of 4096", c, n, len(w.b))
			}
			images = append(images, w.b)
		}
		for i := range images[1:] {
			if !bytes.Equal(images[0], images[i+1]) {
				t.Errorf("%v: images differ with the number of workers", c)
			}
		}
	}
}

func TestDedup(t *testing.T) {
	entries := testEntries(t)
	var dedup, nodedup buffer
	if _, err := Write(&dedup, entries, Options{Compression: Gzip, BlockSize: 4096}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&nodedup, entries, Options{Compression: Gzip, BlockSize: 4096, NoDedup: true}); err != nil {
		t.Fatal(err)
	}
	if len(dedup.b) >= len(nodedup.b) {
		t.Errorf("deduplicated image %d bytes, not smaller than the %d without", len(dedup.b), len(nodedup.b))
	}
}
