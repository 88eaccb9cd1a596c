"""devcluster: a real single-node Kubernetes cluster built and booted from package registries.

Kubernetes components and etcd are built from the Go module proxy (gobuild/), containerd, runc and
the CNI plugins come from Debian, and every image is built locally as an OCI archive (images.py),
since no image registry is reachable. The cluster runs as plain processes whose state lives in one
directory (paths.py). podscope never imports this package; only its tests and CI do.
"""
