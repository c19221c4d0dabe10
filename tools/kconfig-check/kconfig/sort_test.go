package kconfig

import (
	"sort"

	"github.com/google/go-cmp/cmp"
)

// cmpSort compares string slices regardless of order.
func cmpSort(less func(a, b string) bool) cmp.Option {
	return cmp.Transformer("sort", func(in []string) []string {
		out := append([]string(nil), in...)
		sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
		return out
	})
}
