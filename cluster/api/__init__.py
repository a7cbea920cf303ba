"""The Kubernetes REST API (kube-apiserver's HTTP face) over the store."""
