module bazwrt

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/sys v0.50.0
)
