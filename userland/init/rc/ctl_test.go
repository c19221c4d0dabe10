package rc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func serve(t *testing.T, h *harness, socket string, shutdown func(string) error) {
	t.Helper()
	l, err := Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go (&Server{M: h.m, Shutdown: shutdown}).Serve(l)
}

func call(socket string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Call(socket, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestControlSocket(t *testing.T) {
	files := map[string]string{}
	oneshot(files, "a")
	oneshot(files, "b", "a")
	files["bad/type"] = "oneshot"
	files["bad/up"] = sh("exit 7")
	files["d/type"] = "longrun"
	files["d/run"] = "exec sleep 100"
	h := newHarness(t, files)
	socket := h.path("run/services/control")
	var shutdownKind string
	serve(t, h, socket, func(k string) error {
		if k != "poweroff" {
			return fmt.Errorf("bad kind %q", k)
		}
		shutdownKind = k
		return nil
	})

	tests := []struct {
		args       []string
		code       int
		out, errRE string
	}{
		{[]string{"ping"}, 0, "pong\n", ""},
		{[]string{"change", "-u", "b", "d"}, 0, "", ""},
		{[]string{"list", "up"}, 0, "a\nb\nd\n", ""},
		{[]string{"list", "down"}, 0, "bad\n", ""},
		{[]string{"change", "-u", "bad"}, 1, "", `^svc "bad": failed to start: up script: exit 7\n$`},
		{[]string{"change", "-u", "nope"}, 101, "", `^unknown service "nope"\n$`},
		{[]string{"change", "-u", "-d", "a"}, 100, "", `usage`},
		{[]string{"restart", "d"}, 0, "", ""},
		{[]string{"restart", "bad"}, 1, "", `"bad" is failed, not up`},
		{[]string{"change", "-d", "-v", "a"}, 0, "b: down\na: down\n", ""},
		{[]string{"list", "bogus"}, 100, "", `want up, down or all`},
		{[]string{"frobnicate"}, 100, "", `unknown command "frobnicate"`},
		{[]string{"shutdown", "poweroff"}, 0, "", ""},
	}
	for _, tc := range tests {
		code, out, errs := call(socket, tc.args...)
		if code != tc.code || out != tc.out || !regexp.MustCompile(tc.errRE).MatchString(errs) || (tc.errRE == "" && errs != "") {
			t.Errorf("rc %s = %d, stdout %q, stderr %q; want %d, %q, /%s/", strings.Join(tc.args, " "), code, out, errs, tc.code, tc.out, tc.errRE)
		}
	}
	if shutdownKind != "poweroff" {
		t.Errorf("shutdown handler got %q", shutdownKind)
	}
	code, out, _ := call(socket, "status", "d", "a")
	re := regexp.MustCompile(`^a type=oneshot state=down since=\S+ \(\S+ ago\)\n` +
		`d type=longrun state=(ready|starting) pid=\d+ since=\S+ \(\S+ ago\) last="signal 15 \(terminated\)" restarts=1\n$`)
	if code != 0 || !re.MatchString(out) {
		t.Errorf("status = %d %q", code, out)
	}
}

func TestControlSocketLongPath(t *testing.T) {
	h := newHarness(t, map[string]string{})
	dir := h.root
	for len(dir) < 150 {
		dir = filepath.Join(dir, "a-rather-long-directory-name")
	}
	socket := filepath.Join(dir, "control")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	serve(t, h, socket, nil)
	if code, out, errs := call(socket, "ping"); code != 0 || out != "pong\n" {
		t.Errorf("ping over long path = %d %q %q", code, out, errs)
	}
	if code, _, errs := call(filepath.Join(dir, "missing"), "ping"); code != ExitConnect || !strings.Contains(errs, "cannot reach the supervisor") {
		t.Errorf("dial missing socket = %d %q", code, errs)
	}
}

// BenchmarkUp50 brings up 50 trivial services (25 oneshots running `true`,
// 25 longruns running `sleep`, in 5 dependency chains of 10) and takes them
// down again; the reported time is the bring-up only.
func BenchmarkUp50(b *testing.B) { benchUp(b, 5, 10) }

// BenchmarkUp50Flat is the same with 50 independent services.
func BenchmarkUp50Flat(b *testing.B) { benchUp(b, 50, 1) }

func benchUp(b *testing.B, chains, length int) {
	files := map[string]string{"default/type": "bundle"}
	for c := 0; c < chains; c++ {
		for i := 0; i < length; i++ {
			n := fmt.Sprintf("s%d-%d", c, i)
			if (c*length+i)%2 == 0 {
				files[n+"/type"] = "oneshot"
				files[n+"/up"] = "true"
			} else {
				files[n+"/type"] = "longrun"
				files[n+"/run"] = "exec sleep 1000"
			}
			if i > 0 {
				files[fmt.Sprintf("%s/dependencies.d/s%d-%d", n, c, i-1)] = ""
			}
			files["default/contents.d/"+n] = ""
		}
	}
	h := newHarness(b, files)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := h.m.Change(ctx, true, []string{"default"}, ChangeOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := h.m.Change(ctx, false, []string{"default"}, ChangeOptions{}); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.StartTimer()
	}
}
