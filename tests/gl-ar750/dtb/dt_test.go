package dtb_test

import (
	"fmt"
	"testing"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/fdt"
)

// dt is the decoded gl-ar750.dtb with what the checks need to follow
// phandles: the DTB has no __symbols__ (dtc runs without -@), so nodes are
// found by path and compatible, and references by phandle.
type dt struct {
	tree     *fdt.Tree
	byHandle map[uint32]*fdt.Node
	path     map[*fdt.Node]string
	parent   map[*fdt.Node]*fdt.Node
}

func load(t *testing.T) *dt {
	t.Helper()
	tree, err := fdt.Decode(runfiles.Read(t, *dtbFile))
	if err != nil {
		t.Fatalf("%s: %v", *dtbFile, err)
	}
	d := &dt{
		tree:     tree,
		byHandle: map[uint32]*fdt.Node{},
		path:     map[*fdt.Node]string{},
		parent:   map[*fdt.Node]*fdt.Node{},
	}
	err = tree.Walk(func(p string, n *fdt.Node) error {
		d.path[n] = p
		for _, c := range n.Children {
			d.parent[c] = n
		}
		if _, ok := n.Prop("phandle"); ok {
			h, err := n.U32("phandle")
			if err != nil {
				return err
			}
			d.byHandle[h] = n
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", *dtbFile, err)
	}
	return d
}

// node returns the node at path, failing the test if there is none.
func (d *dt) node(t *testing.T, path string) *fdt.Node {
	t.Helper()
	n, err := d.tree.Find(path)
	if err != nil {
		t.Fatalf("gl-ar750.dtb: %v", err)
	}
	return n
}

// enabled reports whether n and all its ancestors have status "okay" (or
// none), as of_device_is_available() sees them along the way.
func (d *dt) enabled(n *fdt.Node) bool {
	for ; n != nil; n = d.parent[n] {
		if s, err := n.StringValue("status"); err == nil && s != "okay" && s != "ok" {
			return false
		}
	}
	return true
}

// compatible returns the enabled nodes with compatible string c.
func (d *dt) compatible(c string) []*fdt.Node {
	var out []*fdt.Node
	d.tree.Walk(func(_ string, n *fdt.Node) error {
		if l, err := n.StringList("compatible"); err == nil && d.enabled(n) {
			for _, s := range l {
				if s == c {
					out = append(out, n)
				}
			}
		}
		return nil
	})
	return out
}

// phandleArgs is one entry of a phandle list such as clocks or resets: the
// node referred to and the argument cells that follow its phandle.
type phandleArgs struct {
	node *fdt.Node
	args []uint32
}

// phandles decodes property prop of n as a list of phandles, each followed
// by as many cells as the referred node's cellsProp says (0 when cellsProp
// is empty), as of_parse_phandle_with_args() does.
func (d *dt) phandles(n *fdt.Node, prop, cellsProp string) ([]phandleArgs, error) {
	cells, err := n.U32s(prop)
	if err != nil {
		return nil, err
	}
	var out []phandleArgs
	for i := 0; i < len(cells); {
		target := d.byHandle[cells[i]]
		if target == nil {
			return nil, fmt.Errorf("%s %s: phandle %#x refers to no node", d.path[n], prop, cells[i])
		}
		var count uint32
		if cellsProp != "" {
			if count, err = target.U32(cellsProp); err != nil {
				return nil, fmt.Errorf("%s %s: %v", d.path[n], prop, err)
			}
		}
		if i+1+int(count) > len(cells) {
			return nil, fmt.Errorf("%s %s: %s wants %d cells after its phandle, the property ends", d.path[n], prop, d.path[target], count)
		}
		out = append(out, phandleArgs{target, cells[i+1 : i+1+int(count)]})
		i += 1 + int(count)
	}
	return out, nil
}

// named returns the entry of a phandle list whose name in namesProp (e.g.
// clock-names for clocks) is name, as of_*_get_by_name() pick it.
func (d *dt) named(t *testing.T, n *fdt.Node, prop, cellsProp, namesProp, name string) phandleArgs {
	t.Helper()
	list, err := d.phandles(n, prop, cellsProp)
	if err != nil {
		t.Fatal(err)
	}
	names, err := n.StringList(namesProp)
	if err != nil {
		t.Fatalf("%s: %v", d.path[n], err)
	}
	for i, s := range names {
		if s == name {
			if i >= len(list) {
				t.Fatalf("%s: %s names %d entries, %s has %d", d.path[n], namesProp, len(names), prop, len(list))
			}
			return list[i]
		}
	}
	t.Fatalf("%s: %s %q has no %q", d.path[n], namesProp, names, name)
	return phandleArgs{}
}

// str returns a string property, failing the test if it is missing.
func str(t *testing.T, n *fdt.Node, name string) string {
	t.Helper()
	s, err := n.StringValue(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// u32s returns a cell property, failing the test if it is missing.
func u32s(t *testing.T, n *fdt.Node, name string) []uint32 {
	t.Helper()
	c, err := n.U32s(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func eqU32(a, b []uint32) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func hasCompatible(n *fdt.Node, c string) bool {
	l, err := n.StringList("compatible")
	if err != nil {
		return false
	}
	for _, s := range l {
		if s == c {
			return true
		}
	}
	return false
}
