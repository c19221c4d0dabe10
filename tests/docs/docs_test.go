// Package docs_test checks that every label README.md and docs/*.md name
// exists, so that a new user's first command does not fail on a renamed
// target. Labels are resolved by `bazel query` on this source tree, with
// a Bazel of its own (see BUILD.bazel for why it reads the source tree).
package docs_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
)

var goTool = flag.String("go", "", "the go command, put on the nested Bazel's PATH")

// labelRE finds labels: //pkg, //pkg:name, @repo//pkg:name, //pkg/...;
// not URLs (tftp://HOST/...), where a letter or ':' precedes the //.
var labelRE = regexp.MustCompile(`(?:^|[\s` + "`" + `"'(\[,=])((?:@[\w.-]+)?//[\w./+-]*(?::[\w./+=,@~-]+)?)`)

// loadRE finds load() examples: load("//x:y.bzl", "a", "b").
var loadRE = regexp.MustCompile(`load\("((?:@[\w.-]+)?//[^"]+\.bzl)"((?:\s*,\s*"\w+")*)`)

// A mention is a label and where the docs have it.
type mention struct {
	label, where string
}

// extract returns the labels of a Markdown text. Placeholders such as
// //devices/<d>:rootfs and the bare // of prose are left out.
func extract(name, text string) []mention {
	var ms []mention
	for i, line := range strings.Split(text, "\n") {
		for _, m := range labelRE.FindAllStringSubmatchIndex(line, -1) {
			l := line[m[2]:m[3]]
			if m[3] < len(line) && line[m[3]] == '<' {
				continue
			}
			if !strings.HasSuffix(l, "/...") {
				l = strings.TrimRight(l, ".,")
			}
			if l == "//" || l == "//..." {
				continue
			}
			ms = append(ms, mention{l, fmt.Sprintf("%s:%d", name, i+1)})
		}
	}
	return ms
}

func TestExtract(t *testing.T) {
	text := "bazel run //tools:tftpd -- x\n`//tests/failover`, (`//userland/busybox:services.bzl`),\n" +
		"curl tftp://HOST:6969/kernel //devices/<d>:rootfs `//tools/fdt/...` //... `@debian_sources//:linux`.\n" +
		"\"//kernel:features/mtd-phram.config\", `//toolchains:all`\n"
	var got []string
	for _, m := range extract("x.md", text) {
		got = append(got, m.label)
	}
	want := []string{"//tools:tftpd", "//tests/failover", "//userland/busybox:services.bzl",
		"//tools/fdt/...", "@debian_sources//:linux", "//kernel:features/mtd-phram.config", "//toolchains:all"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("extract = %q, want %q", got, want)
	}
}

// split returns a label's repository and package ("@r", "p") and its
// name ("" for a package or pattern).
func split(l string) (repo, pkg, name string) {
	repo, rest, _ := strings.Cut(l, "//")
	pkg, name, _ = strings.Cut(rest, ":")
	return repo, pkg, name
}

// workspace returns the source tree this test's WORKSPACE links to.
func workspace(t *testing.T) string {
	t.Helper()
	ws, err := filepath.EvalSymlinks(runfiles.Path(t, "WORKSPACE"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(ws)
}

// query resolves the words with bazel query --keep_going and returns the
// labels it printed.
func query(t *testing.T, ws string, words []string) map[string]bool {
	t.Helper()
	tmp := t.TempDir()
	bazel, err := exec.LookPath("bazel")
	if err != nil {
		t.Fatal("bazel not found: ./bazelw installs Debian's bazel-bootstrap")
	}
	cmd := exec.Command(bazel, "--batch", "--output_user_root="+filepath.Join(tmp, "root"),
		"query", "--keep_going", "--noshow_progress", strings.Join(words, " + "))
	cmd.Dir = ws
	if *goTool == "" {
		t.Fatal("-go: the go command (bazel test passes @go_sdk's)")
	}
	goBin, err := filepath.EvalSymlinks(runfiles.Path(t, *goTool))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(tmp, "home"),
		"PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	// 3: --keep_going with some patterns that did not resolve.
	if exit, ok := err.(*exec.ExitError); err != nil && (!ok || exit.ExitCode() != 3) {
		t.Fatalf("bazel query: %v\n%s", err, stderr.String())
	}
	got := map[string]bool{}
	for _, l := range strings.Fields(stdout.String()) {
		got[l] = true
	}
	if len(got) == 0 {
		t.Fatalf("bazel query resolved nothing:\n%s", stderr.String())
	}
	return got
}

func TestDocLabels(t *testing.T) {
	ws := workspace(t)
	files, err := filepath.Glob(filepath.Join(ws, "docs", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md in %s (%v)", ws, err)
	}
	files = append([]string{filepath.Join(ws, "README.md")}, files...)
	var mentions []mention
	loads := map[string][]mention{} // .bzl label -> its load() symbols
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(ws, f)
		mentions = append(mentions, extract(rel, string(b))...)
		for _, m := range loadRE.FindAllStringSubmatch(string(b), -1) {
			for _, s := range regexp.MustCompile(`"(\w+)"`).FindAllStringSubmatch(m[2], -1) {
				loads[m[1]] = append(loads[m[1]], mention{s[1], rel})
			}
		}
	}
	if len(mentions) < 50 {
		t.Fatalf("found only %d labels in %d files: is the extraction broken?", len(mentions), len(files))
	}

	// What to ask bazel query for each label: a target as it is, a
	// package (//p, //p:all, the package of a .bzl) as //p:*, a pattern
	// as it is.
	word := func(l string) string {
		repo, pkg, name := split(l)
		switch {
		case strings.HasSuffix(l, "/..."):
			return l
		case name == "" || name == "all" || name == "*" || strings.HasSuffix(name, ".bzl"):
			return repo + "//" + pkg + ":*"
		}
		return l
	}
	words := map[string]bool{}
	for _, m := range mentions {
		words[word(m.label)] = true
	}
	var sorted []string
	for w := range words {
		sorted = append(sorted, w)
	}
	sort.Strings(sorted)
	got := query(t, ws, sorted)

	// found reports whether the query printed w, or for a package or
	// pattern anything in it.
	found := func(w string) bool {
		if got[w] {
			return true
		}
		var prefixes []string
		if p, ok := strings.CutSuffix(w, ":*"); ok {
			prefixes = []string{p + ":"}
		} else if p, ok := strings.CutSuffix(w, "/..."); ok {
			prefixes = []string{p + ":", p + "/"}
			if strings.HasSuffix(p, "//") {
				prefixes = []string{p}
			}
		}
		for l := range got {
			for _, p := range prefixes {
				if strings.HasPrefix(l, p) {
					return true
				}
			}
		}
		return false
	}
	for _, m := range mentions {
		if !found(word(m.label)) {
			t.Errorf("%s: %s does not exist (bazel query %s)", m.where, m.label, word(m.label))
			continue
		}
		repo, pkg, name := split(m.label)
		if strings.HasSuffix(name, ".bzl") && repo == "" {
			if _, err := os.Stat(filepath.Join(ws, pkg, name)); err != nil {
				t.Errorf("%s: %s: %v", m.where, m.label, err)
			}
		}
	}

	// The load() examples import symbols the .bzl files define.
	for bzl, syms := range loads {
		repo, pkg, name := split(bzl)
		if repo != "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(ws, pkg, name))
		if err != nil {
			t.Errorf("%s: load(%q): %v", syms[0].where, bzl, err)
			continue
		}
		for _, s := range syms {
			def := regexp.MustCompile(`(?m)^(def ` + s.label + `\(|` + s.label + ` = )`)
			if !def.Match(b) {
				t.Errorf("%s: load(%q, %q): %s defines no %s", s.where, bzl, s.label, bzl, s.label)
			}
		}
	}
}
