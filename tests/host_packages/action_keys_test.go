// Package host_packages_test checks that the versions of the host's Debian
// packages (@host_packages, toolchains/host_packages.bzl) are inputs of
// exactly the actions that run them: a new version of the mips cross gcc
// must change the cache keys of the mips C package and kernel actions, and
// of nothing else (the Go actions, the arm and mipsel packages).
//
// It runs a Bazel of its own on the source tree (tagged "local": not
// sandboxed; "external": never cached, it reads the whole tree), with an
// output base of its own: `bazel aquery` once with the real @host_packages
// and once with a copy in which gcc-12-mips-linux-gnu has another version
// (--override_repository). Bazel's aquery action key covers the command
// line and environment but not the inputs' contents, which the disk and
// remote caches key on too; the test's key of an action is the action key,
// the paths of its inputs and the contents of its inputs from
// @host_packages, the one repository that differs between the two runs.
package host_packages_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var goTool = flag.String("go", "", "runfiles path of the go command (go_repository runs it)")

// The mnemonics of the actions that run the cross gcc (rules/pkg, rules/kernel).
var crossMnemonics = map[string]bool{
	"PkgBuild":      true,
	"RootfsPkg":     true,
	"SoftLibgcc":    true,
	"KernelConfig":  true,
	"KernelBuild":   true,
	"KernelDtTools": true,
	"KernelDtb":     true,
}

const (
	repo       = "host_packages"
	crossFile  = "cross-mips-linux-gnu.txt"
	crossGcc   = "gcc-12-mips-linux-gnu"
	repoPrefix = "external/" + repo + "/"
)

// A query: the targets of one platform.
type query struct {
	name     string
	flags    []string
	expr     string
	mipsOnly bool // every cross action in it runs the mips cross gcc
}

var queries = []query{
	// The two mips devices: kernels, packages (built for mips_24kc by a
	// transition), the Go userland and the Go host tools.
	{"devices", nil, "deps(//devices/qemu:image) + deps(//devices/gl-ar750:image)", true},
	// What aquery's deps() does not reach: the toolchain's musl and libgcc.
	{"mips", []string{"--platforms=//toolchains:mips_24kc"}, "deps(//userland/musl) + //toolchains:libgcc_mips_24kc + deps(//userland/busybox)", true},
	{"mipsel", []string{"--platforms=//toolchains:mipsel_24kec"}, "deps(//userland/musl) + //toolchains:libgcc_mipsel_24kec + deps(//userland/busybox)", false},
	{"armv7", []string{"--platforms=//toolchains:armv7"}, "deps(//userland/musl) + deps(//userland/busybox) + deps(//userland/dropbear)", false},
}

type bazel struct {
	t    *testing.T
	root string
	env  []string
	base []string
}

func (b *bazel) run(args ...string) []byte {
	b.t.Helper()
	cmd := exec.Command("bazel", append(append([]string{}, b.base...), args...)...)
	cmd.Dir = b.root
	cmd.Env = b.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.t.Fatalf("bazel %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// The parts of aquery's jsonproto output the test reads.
type aqueryOutput struct {
	Artifacts []struct {
		ID             int `json:"id"`
		PathFragmentID int `json:"pathFragmentId"`
	} `json:"artifacts"`
	PathFragments []struct {
		ID       int    `json:"id"`
		Label    string `json:"label"`
		ParentID int    `json:"parentId"`
	} `json:"pathFragments"`
	DepSetOfFiles []struct {
		ID                  int   `json:"id"`
		DirectArtifactIDs   []int `json:"directArtifactIds"`
		TransitiveDepSetIDs []int `json:"transitiveDepSetIds"`
	} `json:"depSetOfFiles"`
	Targets []struct {
		ID    int    `json:"id"`
		Label string `json:"label"`
	} `json:"targets"`
	Actions []struct {
		TargetID        int    `json:"targetId"`
		ActionKey       string `json:"actionKey"`
		Mnemonic        string `json:"mnemonic"`
		InputDepSetIDs  []int  `json:"inputDepSetIds"`
		PrimaryOutputID int    `json:"primaryOutputId"`
	} `json:"actions"`
}

type action struct {
	mnemonic string
	key      string
	hostPkgs []string // the @host_packages files among its inputs
}

// keys runs aquery and returns the actions by "mnemonic target output",
// keyed as the caches key them for the host_packages files in hpDir.
func keys(t *testing.T, b *bazel, q query, hpDir string, extra ...string) map[string]action {
	t.Helper()
	args := append([]string{"aquery", "--output=jsonproto", "--experimental_convenience_symlinks=ignore"}, q.flags...)
	args = append(append(args, extra...), q.expr)
	var out aqueryOutput
	if err := json.Unmarshal(b.run(args...), &out); err != nil {
		t.Fatalf("%s: parsing aquery's output: %v", q.name, err)
	}
	frags := map[int]int{}
	labels := map[int]string{}
	for _, p := range out.PathFragments {
		frags[p.ID] = p.ParentID
		labels[p.ID] = p.Label
	}
	path := func(id int) string {
		var parts []string
		for ; id != 0; id = frags[id] {
			parts = append([]string{labels[id]}, parts...)
		}
		return strings.Join(parts, "/")
	}
	arts := map[int]string{}
	for _, a := range out.Artifacts {
		arts[a.ID] = path(a.PathFragmentID)
	}
	type depSet struct{ direct, transitive []int }
	sets := map[int]depSet{}
	for _, d := range out.DepSetOfFiles {
		sets[d.ID] = depSet{d.DirectArtifactIDs, d.TransitiveDepSetIDs}
	}
	targets := map[int]string{}
	for _, tg := range out.Targets {
		targets[tg.ID] = tg.Label
	}
	contents := map[string]string{}
	res := map[string]action{}
	for _, a := range out.Actions {
		inputs := map[string]bool{}
		seen := map[int]bool{}
		stack := append([]int{}, a.InputDepSetIDs...)
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] {
				continue
			}
			seen[id] = true
			for _, f := range sets[id].direct {
				inputs[arts[f]] = true
			}
			stack = append(stack, sets[id].transitive...)
		}
		paths := make([]string, 0, len(inputs))
		for p := range inputs {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		h := sha256.New()
		h.Write([]byte(a.ActionKey + "\n"))
		var hostPkgs []string
		for _, p := range paths {
			h.Write([]byte(p + "\n"))
			if !strings.HasPrefix(p, repoPrefix) {
				continue
			}
			name := strings.TrimPrefix(p, repoPrefix)
			hostPkgs = append(hostPkgs, name)
			c, ok := contents[name]
			if !ok {
				data, err := os.ReadFile(filepath.Join(hpDir, name))
				if err != nil {
					t.Fatal(err)
				}
				c = string(data)
				contents[name] = c
			}
			h.Write([]byte(c))
		}
		id := a.Mnemonic + " " + targets[a.TargetID] + " " + arts[a.PrimaryOutputID]
		if _, dup := res[id]; dup {
			t.Fatalf("%s: two actions are %s", q.name, id)
		}
		res[id] = action{a.Mnemonic, hex.EncodeToString(h.Sum(nil)), hostPkgs}
	}
	return res
}

func TestMipsGccVersionChangesOnlyMipsCActions(t *testing.T) {
	ws, err := filepath.EvalSymlinks(filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), "WORKSPACE"))
	if err != nil {
		t.Fatalf("finding the workspace from the runfiles link of //:WORKSPACE: %v", err)
	}
	if *goTool == "" {
		t.Fatal("-go not set: run this test with bazel test")
	}
	goBin, err := filepath.Abs(filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), *goTool))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	b := &bazel{
		t:    t,
		root: filepath.Dir(ws),
		// go_repository runs the go command of PATH; HOME holds no .bazelrc.
		env:  append(os.Environ(), "HOME="+tmp, "PATH="+filepath.Dir(goBin)+":"+os.Getenv("PATH")),
		base: []string{"--output_user_root=" + filepath.Join(tmp, "root")},
	}
	defer b.run("shutdown")

	// The real repository, as the first query fetched it, and a copy with
	// another version of the mips cross gcc.
	b.run("query", "@"+repo+"//:all") // fetches it
	real := filepath.Join(strings.TrimSpace(string(b.run("info", "output_base"))), "external", repo)
	before := make([]map[string]action, len(queries))
	for i, q := range queries {
		before[i] = keys(t, b, q, real)
	}
	changed := filepath.Join(tmp, repo)
	if err := os.MkdirAll(changed, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(real, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == crossFile {
			var lines []string
			for _, l := range strings.Split(string(data), "\n") {
				if f := strings.Fields(l); len(f) == 3 && f[0] == crossGcc {
					l = f[0] + " " + f[1] + "+upgraded " + f[2]
					edited = true
				}
				lines = append(lines, l)
			}
			data = []byte(strings.Join(lines, "\n"))
		}
		if err := os.WriteFile(filepath.Join(changed, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !edited {
		t.Fatalf("%s in %s has no %s line", crossFile, real, crossGcc)
	}

	changedKeys := map[string]int{}
	seen := map[string]int{}
	for i, q := range queries {
		after := keys(t, b, q, changed, "--override_repository="+repo+"="+changed)
		if len(after) != len(before[i]) {
			t.Errorf("%s: %d actions with the real @%s, %d with the changed one", q.name, len(before[i]), repo, len(after))
		}
		nChanged := 0
		for id, a := range before[i] {
			n, ok := after[id]
			if !ok {
				t.Errorf("%s: %s is gone with the changed @%s", q.name, id, repo)
				continue
			}
			want := q.mipsOnly && crossMnemonics[a.mnemonic]
			got := n.key != a.key
			switch {
			case got && !want:
				t.Errorf("%s: the mips gcc's version changed the key of %s (inputs from @%s: %v)", q.name, id, repo, a.hostPkgs)
			case want && !got:
				t.Errorf("%s: the mips gcc's version did not change the key of %s (inputs from @%s: %v)", q.name, id, repo, a.hostPkgs)
			}
			if got {
				changedKeys[a.mnemonic]++
				nChanged++
			}
			if want || a.mnemonic == "GoCompilePkg" {
				seen[a.mnemonic]++
			}
		}
		t.Logf("%s: %d actions, %d keys changed", q.name, len(before[i]), nChanged)
	}
	t.Logf("mips cross actions and Go compiles in the queries: %v", seen)
	t.Logf("changed keys by mnemonic: %v", changedKeys)
	// The queries must reach what they are meant to check.
	for _, m := range []string{"PkgBuild", "RootfsPkg", "SoftLibgcc", "KernelConfig", "KernelBuild", "KernelDtTools", "KernelDtb", "GoCompilePkg"} {
		if seen[m] == 0 {
			t.Errorf("no %s action in the queries", m)
		}
	}
}
