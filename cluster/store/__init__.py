"""Kubarium's store: etcd (the models and the change log) and the core of kube-apiserver.

Use it through its modules: ``write`` (create, update, update_status, patch, mutate, delete),
``read`` (get, list_objects, rows, changes_since), ``kinds`` (the registry), ``errors``.
"""
