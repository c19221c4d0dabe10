module bazwrt/third_party/go

go 1.26

tool github.com/bazelbuild/buildtools/buildifier

require (
	github.com/bazelbuild/bazel-gazelle v0.30.0 // indirect
	github.com/bazelbuild/buildtools v0.0.0-20260904073137-eaa4d125b423 // indirect
	github.com/bazelbuild/rules_go v0.41.0 // indirect
	github.com/golang/protobuf v1.5.2 // indirect
	github.com/google/safeopen v0.0.0-20260327150837-43626d6f4685 // indirect
	golang.org/x/sys v0.10.0 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
