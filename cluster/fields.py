"""Model fields of the cluster's store."""

from __future__ import annotations

import json
import re

import orjson
from django.db import models
from django.db.models.fields.json import KeyTransform

# orjson reads an integer beyond 64 bits as a float: text with such a run of digits (rare: they
# are mostly inside strings) is read by the json module instead.
_LONG_NUMBER = re.compile(r"\d{19}")


class JSONField(models.JSONField):
    """Django's JSONField, decoding (and, on SQLite, encoding) with orjson.

    Every hot path reads and writes objects' metadata, spec and status: a controller listing a
    hundred pods, a kubelet's sync, a batch of bindings. orjson does the same work several times
    faster than the ``json`` module. What orjson would read or write differently (an integer
    beyond 64 bits, a NaN token) goes through Django's own code. The column,
    the lookups and the migrations are Django's: ``deconstruct`` names Django's class.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or (isinstance(expression, KeyTransform) and not isinstance(value, str)):
            return value
        if self.decoder is None and not _LONG_NUMBER.search(value):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        try:
            return json.loads(value, cls=self.decoder)
        except json.JSONDecodeError:
            return value

    def get_db_prep_save(self, value, connection):
        if (
            connection.vendor == "sqlite"
            and self.encoder is None
            and isinstance(value, dict | list | str | int | float | bool)
        ):
            try:
                return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
            except (orjson.JSONEncodeError, TypeError):
                pass
        return super().get_db_prep_save(value, connection)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
