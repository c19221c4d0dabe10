package tftp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests fetch files with the TFTP clients Debian packages: curl,
// tftp-hpa's tftp and atftp. They are not skipped when a client is
// missing, because the machine setup installs all three.
//
// What each client can negotiate:
//
//	curl     blksize (--tftp-blksize), and always tsize and timeout
//	tftp     (tftp-hpa 5.2) no options at all; octet ("binary") or netascii ("ascii")
//	atftp    blksize, timeout, tsize and windowsize (--option "name value")

// clientBinary finds a client program. Under Bazel PATH may be minimal,
// so /usr/bin is tried too.
func clientBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/bin", name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p
	}
	t.Fatalf("TFTP client %q not found in PATH or /usr/bin: install it with `apt-get install -y %s`", name, pkg)
	return ""
}

// runClient runs a client in dir with a clean environment and a deadline
// and returns its combined output and exit code.
func runClient(t *testing.T, dir, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C"}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s (%v)\n%s", filepath.Base(bin), strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	if ctx.Err() != nil {
		t.Fatalf("%s timed out", bin)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %s: %v", bin, err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// clientFixture is a served tree with a 5 MiB random file, a text file and
// the fixture's secret outside the root, plus a directory for the
// client's downloads.
type clientFixture struct {
	*fixture
	ts   *testServer
	big  []byte
	text []byte
	port string
	out  string // client working directory
}

func newClientFixture(t *testing.T) *clientFixture {
	f := &clientFixture{
		fixture: newFixture(t),
		big:     randomBytes(5 << 20),
		text:    []byte("first line\nsecond line\r\nno newline at the end"),
		out:     t.TempDir(),
	}
	f.add(t, "big.bin", f.big)
	f.add(t, "text.txt", f.text)
	f.ts = startServer(t, &Server{Root: f.root})
	f.port = fmt.Sprint(f.ts.addr.Port())
	return f
}

func (f *clientFixture) url(name string) string {
	return "tftp://127.0.0.1:" + f.port + "/" + name
}

// download returns the content of a file the client wrote, or nil.
func (f *clientFixture) download(name string) []byte {
	b, _ := os.ReadFile(filepath.Join(f.out, name))
	return b
}

// checkSame compares a download with the original by SHA-256.
func checkSame(t *testing.T, got, want []byte) {
	t.Helper()
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("downloaded %d bytes with SHA-256 %x, want %d bytes with %x",
			len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// checkNotLeaked fails if the secret reached the client or the log shows
// a successful transfer of it.
func (f *clientFixture) checkNotLeaked(t *testing.T, local string) {
	t.Helper()
	if got := f.download(local); bytes.Contains(got, f.secrets) {
		t.Errorf("the file outside the root was sent")
	}
	for _, line := range strings.Split(f.ts.log.String(), "\n") {
		if strings.Contains(line, "secret.txt") && !strings.Contains(line, "outcome=\"refused: ") {
			t.Errorf("a request for secret.txt was not refused: %s", line)
		}
	}
}

func TestCurl(t *testing.T) {
	curl := clientBinary(t, "curl", "curl")
	f := newClientFixture(t)
	get := func(t *testing.T, local string, args ...string) (string, int) {
		t.Helper()
		args = append([]string{"-q", "-sS", "--max-time", "30", "-o", local}, args...)
		return runClient(t, f.out, curl, args...)
	}

	t.Run("5MiB blksize 1468", func(t *testing.T) {
		if _, code := get(t, "big.bin", "--tftp-blksize", "1468", f.url("big.bin")); code != 0 {
			t.Fatalf("curl exit code %d", code)
		}
		checkSame(t, f.download("big.bin"), f.big)
		f.ts.log.waitFor(t, "file=big.bin", "blksize=1468", "bytes=5242880", "outcome=ok")
	})
	t.Run("default blksize", func(t *testing.T) {
		if _, code := get(t, "text.txt", f.url("text.txt")); code != 0 {
			t.Fatalf("curl exit code %d", code)
		}
		checkSame(t, f.download("text.txt"), f.text)
	})
	t.Run("symlink out of the tree", func(t *testing.T) {
		// 69 is CURLE_TFTP_PERM.
		if _, code := get(t, "link.txt", f.url("link.txt")); code != 69 {
			t.Errorf("curl exit code %d, want 69 (TFTP access violation)", code)
		}
		f.checkNotLeaked(t, "link.txt")
		f.ts.log.waitFor(t, "file=link.txt", "refused: symbolic link leads outside")
	})
	t.Run("symlink into a follow directory", func(t *testing.T) {
		ts := startServer(t, &Server{Root: f.root, Follow: []string{f.outside}})
		url := fmt.Sprintf("tftp://127.0.0.1:%d/link.txt", ts.addr.Port())
		if _, code := get(t, "followed.txt", url); code != 0 {
			t.Fatalf("curl exit code %d", code)
		}
		checkSame(t, f.download("followed.txt"), f.secrets)
	})
	t.Run("missing file", func(t *testing.T) {
		// 68 is CURLE_TFTP_NOTFOUND.
		if _, code := get(t, "missing", f.url("missing")); code != 68 {
			t.Errorf("curl exit code %d, want 68 (TFTP file not found)", code)
		}
		f.ts.log.waitFor(t, "file=missing", "refused: file not found")
	})
	// --path-as-is stops curl from removing dot segments itself; curl
	// also decodes %2e before sending.
	for i, path := range []string{
		"../outside/secret.txt",
		"a/../../outside/secret.txt",
		"%2e%2e/outside/secret.txt",
		"/" + f.secret, // the URL path is //abs/path: curl sends /abs/path
	} {
		t.Run("traversal "+path, func(t *testing.T) {
			local := fmt.Sprintf("traversal%d", i)
			if _, code := get(t, local, "--path-as-is", f.url(path)); code == 0 {
				t.Errorf("curl succeeded")
			}
			f.checkNotLeaked(t, local)
		})
	}

	t.Run("client not allowed", func(t *testing.T) {
		ts := startServer(t, &Server{Root: f.root, Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}})
		// The server does not answer: curl gives up (28 is
		// CURLE_OPERATION_TIMEDOUT).
		url := fmt.Sprintf("tftp://127.0.0.1:%d/text.txt", ts.addr.Port())
		out, code := runClient(t, f.out, curl, "-q", "-sS", "--max-time", "2", "-o", "denied", url)
		if code != 28 {
			t.Errorf("curl exit code %d, output %q; want 28 (timeout)", code, out)
		}
		ts.log.waitFor(t, "client=127.0.0.1:", "refused: client not in allow list")
	})
}

func TestTFTPHPA(t *testing.T) {
	tftp := clientBinary(t, "tftp", "tftp-hpa")
	f := newClientFixture(t)
	// tftp-hpa exits 0 even when a transfer fails, so the tests read
	// its messages.
	run := func(t *testing.T, mode, command string) string {
		t.Helper()
		args := append([]string{"-m", mode, "127.0.0.1", f.port, "-c"}, strings.Fields(command)...)
		out, _ := runClient(t, f.out, tftp, args...)
		return out
	}

	t.Run("5MiB binary", func(t *testing.T) {
		if out := run(t, "binary", "get big.bin big.bin"); strings.Contains(out, "Error") {
			t.Fatalf("tftp failed: %s", out)
		}
		checkSame(t, f.download("big.bin"), f.big)
		f.ts.log.waitFor(t, "file=big.bin", "blksize=512", "bytes=5242880", "outcome=ok")
	})
	t.Run("netascii", func(t *testing.T) {
		run(t, "ascii", "get text.txt text.txt")
		// The client converts back, so the text arrives unchanged.
		checkSame(t, f.download("text.txt"), f.text)
		f.ts.log.waitFor(t, "file=text.txt", "mode=netascii", "outcome=ok")
	})
	t.Run("missing file", func(t *testing.T) {
		if out := run(t, "binary", "get missing missing"); !strings.Contains(out, "Error code 1: file not found") {
			t.Errorf("tftp output %q, want a file-not-found error", out)
		}
	})
	t.Run("put refused", func(t *testing.T) {
		writeFile(t, filepath.Join(f.out, "upload.bin"), []byte("data"))
		if out := run(t, "binary", "put upload.bin upload.bin"); !strings.Contains(out, "Error code 2: server is read-only") {
			t.Errorf("tftp output %q, want an access violation", out)
		}
		if _, err := os.Stat(filepath.Join(f.root, "upload.bin")); err == nil {
			t.Errorf("upload.bin was created in the served directory")
		}
		f.ts.log.waitFor(t, "op=WRQ", "file=upload.bin", "refused: write request refused")
	})
	for i, name := range []string{"../outside/secret.txt", "a/../../outside/secret.txt", f.secret} {
		t.Run("traversal "+name, func(t *testing.T) {
			local := fmt.Sprintf("traversal%d", i)
			if out := run(t, "binary", "get "+name+" "+local); !strings.Contains(out, "Error code") {
				t.Errorf("tftp output %q, want an error", out)
			}
			f.checkNotLeaked(t, local)
		})
	}
}

func TestAtftp(t *testing.T) {
	atftp := clientBinary(t, "atftp", "atftp")
	f := newClientFixture(t)
	get := func(t *testing.T, remote, local string, options ...string) (string, int) {
		t.Helper()
		var args []string
		for _, o := range options {
			args = append(args, "--option", o)
		}
		args = append(args, "-g", "-r", remote, "-l", local, "127.0.0.1", f.port)
		return runClient(t, f.out, atftp, args...)
	}

	t.Run("5MiB blksize 1468 windowsize 8", func(t *testing.T) {
		if _, code := get(t, "big.bin", "big.bin", "blksize 1468", "windowsize 8"); code != 0 {
			t.Fatalf("atftp exit code %d", code)
		}
		checkSame(t, f.download("big.bin"), f.big)
		f.ts.log.waitFor(t, "file=big.bin", "blksize=1468", "windowsize=8", "bytes=5242880", "outcome=ok")
	})
	t.Run("tsize timeout windowsize 64", func(t *testing.T) {
		if _, code := get(t, "big.bin", "big2.bin", "tsize enable", "timeout 2", "windowsize 64"); code != 0 {
			t.Fatalf("atftp exit code %d", code)
		}
		checkSame(t, f.download("big2.bin"), f.big)
		f.ts.log.waitFor(t, "file=big.bin", "blksize=512", "windowsize=64", "bytes=5242880", "outcome=ok")
	})
	t.Run("missing file", func(t *testing.T) {
		out, code := get(t, "missing", "missing")
		if code == 0 || !strings.Contains(out, "file not found") {
			t.Errorf("atftp exit code %d, output %q; want a file-not-found error", code, out)
		}
	})
	for i, name := range []string{"../outside/secret.txt", "sub/../../outside/secret.txt", f.secret} {
		t.Run("traversal "+name, func(t *testing.T) {
			local := fmt.Sprintf("traversal%d", i)
			if _, code := get(t, name, local); code == 0 {
				t.Errorf("atftp succeeded")
			}
			f.checkNotLeaked(t, local)
		})
	}
}
