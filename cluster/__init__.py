"""Kubarium's cluster: the store (etcd + kube-apiserver core) and the simulated control plane."""

from .celery import app as celery_app

__all__ = ["celery_app"]
