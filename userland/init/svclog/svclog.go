// Package svclog writes timestamped, size-rotated log directories in the
// spirit of s6-log.
//
// A log directory holds "current" plus at most Count-1 archived files named
// "@<UTC timestamp>.s" (lexicographic order is age order). A file is rotated
// before a line would make it exceed MaxSize, and lines longer than a file
// are truncated, so the directory never holds more than Count × MaxSize
// bytes. Each line is prefixed with an RFC 3339 UTC timestamp with
// microseconds, e.g. "2024-05-01T12:00:00.123456Z ".
//
// Writing never blocks the producer: lines go through a bounded queue, and
// when the queue is full or the disk refuses a write (ENOSPC, EIO...) lines
// are dropped and counted; a "svclog: dropped N lines" note is written once
// writing works again.
package svclog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options.
const (
	DefaultMaxSize = 256 << 10
	DefaultCount   = 4
	DefaultQueue   = 1024
	// MaxLine is the longest line kept (longer lines are split).
	MaxLine = 4096
	// TimeFormat is the timestamp prefixed to each line.
	TimeFormat = "2006-01-02T15:04:05.000000Z"
	archiveFmt = "20060102T150405.000000000Z"
)

// Options configure a Logger.
type Options struct {
	Dir     string
	MaxSize int64 // bytes per file, including "current"
	Count   int   // files kept, including "current" (>= 2)
	Queue   int   // lines buffered between producers and the writer
	Now     func() time.Time

	// write replaces the file write in tests (disk-full simulation).
	write func(f *os.File, b []byte) (int, error)
}

type entry struct {
	t     time.Time
	line  string
	flush chan struct{} // Sync barrier
}

// Logger is one log directory with its writer goroutine.
type Logger struct {
	o       Options
	q       chan entry
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
	dropped atomic.Int64
	written atomic.Int64

	// writer goroutine state
	f    *os.File
	size int64
	// lastFail is when a write last failed; reopening is retried at most
	// once a second.
	lastFail time.Time
}

// Open creates the directory if needed and starts the writer.
func Open(o Options) (*Logger, error) {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxSize < 256 {
		o.MaxSize = 256
	}
	if o.Count < 2 {
		o.Count = DefaultCount
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.write == nil {
		o.write = (*os.File).Write
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	l := &Logger{o: o, q: make(chan entry, o.Queue), stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.open(); err != nil {
		return nil, err
	}
	l.prune()
	go l.writer()
	return l, nil
}

// Dir returns the log directory.
func (l *Logger) Dir() string { return l.o.Dir }

// Dropped returns how many lines were lost (queue full or write errors).
func (l *Logger) Dropped() int64 { return l.dropped.Load() }

// Line queues one line (without its newline); it never blocks.
func (l *Logger) Line(s string) {
	select {
	case l.q <- entry{t: l.o.Now(), line: s}:
	default:
		l.dropped.Add(1)
	}
}

// Printf queues a formatted line.
func (l *Logger) Printf(format string, args ...any) {
	l.Line(fmt.Sprintf(format, args...))
}

// Pipe returns the write end of a pipe whose lines are logged with prefix.
// tee, if not nil, also receives each line (without prefix). The reader
// goroutine runs until every copy of the write end is closed; the caller
// owns w and must close its copy.
func (l *Logger) Pipe(prefix string, tee func(string)) (w *os.File, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go l.Copy(r, prefix, tee)
	return w, nil
}

// Copy logs every line read from r (closing r at EOF).
func (l *Logger) Copy(r io.ReadCloser, prefix string, tee func(string)) {
	defer r.Close()
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			s := strings.TrimSuffix(string(b), "\n")
			if tee != nil {
				tee(s)
			}
			l.Line(prefix + s)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// Close flushes queued lines and stops the writer.
func (l *Logger) Close() error {
	l.closing.Do(func() { close(l.stop) })
	<-l.done
	return nil
}

func (l *Logger) current() string { return filepath.Join(l.o.Dir, "current") }

func (l *Logger) open() error {
	f, err := os.OpenFile(l.current(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, st.Size()
	return nil
}

func (l *Logger) writer() {
	defer close(l.done)
	for {
		select {
		case e := <-l.q:
			l.write(e)
		case <-l.stop:
			for {
				select {
				case e := <-l.q:
					l.write(e)
				default:
					if l.f != nil {
						l.f.Close()
						l.f = nil
					}
					return
				}
			}
		}
	}
}

func (l *Logger) format(e entry) []byte {
	ts := e.t.UTC().Format(TimeFormat)
	max := int(l.o.MaxSize) - len(ts) - 2
	if max > MaxLine {
		max = MaxLine
	}
	s := e.line
	if len(s) > max {
		s = s[:max]
	}
	b := make([]byte, 0, len(ts)+len(s)+2)
	b = append(b, ts...)
	b = append(b, ' ')
	b = append(b, s...)
	return append(b, '\n')
}

func (l *Logger) write(e entry) {
	if e.flush != nil {
		close(e.flush)
		return
	}
	if n := l.dropped.Load(); n > 0 {
		if l.emit(l.format(entry{t: e.t, line: fmt.Sprintf("svclog: dropped %d lines", n)})) {
			l.dropped.Add(-n)
		}
	}
	if !l.emit(l.format(e)) {
		l.dropped.Add(1)
	}
}

// emit writes one formatted line, rotating first if needed. It reports
// whether the line was written.
func (l *Logger) emit(b []byte) bool {
	if l.f == nil {
		if l.o.Now().Sub(l.lastFail) < time.Second {
			return false
		}
		if err := l.open(); err != nil {
			l.lastFail = l.o.Now()
			return false
		}
	}
	if l.size > 0 && l.size+int64(len(b)) > l.o.MaxSize {
		l.rotate()
		if l.f == nil {
			return false
		}
	}
	n, err := l.o.write(l.f, b)
	l.size += int64(n)
	if err != nil {
		// Disk full or I/O error: drop, and start a fresh file later
		// (a partial line may remain; the size bound still holds).
		l.f.Close()
		l.f = nil
		l.lastFail = l.o.Now()
		return false
	}
	l.written.Add(1)
	return true
}

// rotate archives current and prunes old archives.
func (l *Logger) rotate() {
	l.f.Close()
	l.f = nil
	base := "@" + l.o.Now().UTC().Format(archiveFmt)
	name := base + ".s"
	for i := 1; ; i++ {
		if _, err := os.Lstat(filepath.Join(l.o.Dir, name)); err != nil {
			break
		}
		name = fmt.Sprintf("%s-%d.s", base, i)
	}
	if err := os.Rename(l.current(), filepath.Join(l.o.Dir, name)); err != nil {
		// Cannot archive: truncate to keep the bound.
		os.Truncate(l.current(), 0)
	}
	l.prune()
	if err := l.open(); err != nil {
		l.lastFail = l.o.Now()
	}
}

// archives returns the archived file names, oldest first.
func (l *Logger) archives() []string {
	ents, err := os.ReadDir(l.o.Dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "@") && strings.HasSuffix(n, ".s") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (l *Logger) prune() {
	a := l.archives()
	for len(a) > l.o.Count-1 {
		os.Remove(filepath.Join(l.o.Dir, a[0]))
		a = a[1:]
	}
}

// Sync waits until every line queued before the call has been handed to
// the file system, or the timeout expires (used by tests and at shutdown).
func (l *Logger) Sync(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	e := entry{flush: make(chan struct{})}
	select {
	case l.q <- e:
	case <-l.done:
		return true
	case <-t.C:
		return false
	}
	select {
	case <-e.flush:
		return true
	case <-l.done:
		return true
	case <-t.C:
		return false
	}
}
