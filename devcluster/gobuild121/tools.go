//go:build tools
// +build tools

// Package gobuild121 only records, for go mod tidy, the programs this module builds
// (openapi-gen generates the file kube-apiserver 1.21 needs and does not publish).
package gobuild121

import (
	_ "k8s.io/kube-openapi/cmd/openapi-gen"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
