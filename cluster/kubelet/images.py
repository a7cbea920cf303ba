"""The simulated container runtime's images: names, sizes, digests, pulls and behaviour.

Image references are normalised as containerd does (``docker.io/library/nginx:1.27`` for
``nginx:1.27``); the node's image cache holds normalised references. Sizes, digests and the
time a pull takes are deterministic: known images have sizes close to the real ones, any other
image gets a size derived from the SHA-256 of its name.

A pull takes ``latency + size / bandwidth``, scaled by a seeded jitter of up to ±20 %. Worked
example for nginx:1.27 (72,099,501 bytes) at 50 MB/s with 0.4 s latency and jitter 1.0:
``0.4 + 72099501 / 50000000 = 1.84199 s``, truncated to the millisecond as the kubelet's
``Truncate(time.Millisecond)`` does: ``1.841s``.

Which images fail to pull: a name containing ``does-not-exist`` (the repository is missing), the
tag ``broken`` or a tag containing ``does-not-exist``/``doesnotexist`` (the tag is missing), or anything the world lists as unpullable. The error texts
are containerd's, as the kubelet reports them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection, Iterable
from typing import Any

__all__ = [
    "ImageProfile",
    "ImageRef",
    "default_pull_policy",
    "go_duration",
    "image_digest",
    "image_id",
    "image_profile",
    "image_size",
    "node_images_status",
    "parse_image",
    "pull_duration",
    "pull_error",
]

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_PREFIX = "library/"


@dataclasses.dataclass(frozen=True)
class ImageRef:
    """A parsed image reference. ``str()`` is the normalised form containerd stores."""

    domain: str
    path: str
    tag: str
    digest: str

    @property
    def name(self) -> str:
        """``docker.io/library/nginx``: the repository without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def short_name(self) -> str:
        """The last path element: ``nginx`` for ``docker.io/library/nginx``."""
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag}"


def parse_image(reference: str) -> ImageRef:
    """Normalise a reference the way Docker's ``ParseNormalizedNamed`` does.

    ``nginx`` -> ``docker.io/library/nginx:latest``; ``bitnami/redis:7`` ->
    ``docker.io/bitnami/redis:7``; ``localhost:5000/app`` keeps its registry; a digest wins over
    the default tag. The first path element is a registry when it contains ``.`` or ``:`` or is
    ``localhost``.
    """
    rest, digest = reference.strip(), ""
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    tag = ""
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, remainder
    else:
        domain, path = DEFAULT_DOMAIN, rest
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if not tag and not digest:
        tag = "latest"
    return ImageRef(domain=domain, path=path.lower(), tag=tag, digest=digest)


def default_pull_policy(reference: str) -> str:
    """The API default for ``imagePullPolicy``: ``Always`` for ``:latest`` or no tag, else
    ``IfNotPresent`` (a digest counts as a tag)."""
    ref = parse_image(reference)
    if ref.digest:
        return "IfNotPresent"
    return "Always" if ref.tag == "latest" else "IfNotPresent"


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def image_digest(reference: str) -> str:
    """The manifest digest: the reference's own digest, else ``sha256:`` + SHA-256 of its name."""
    ref = parse_image(reference)
    return ref.digest or "sha256:" + _sha("manifest", str(ref))


def image_id(reference: str) -> str:
    """``imageID`` as containerd reports it: ``docker.io/library/nginx@sha256:...``."""
    ref = parse_image(reference)
    return f"{ref.name}@{image_digest(reference)}"


@dataclasses.dataclass(frozen=True)
class ImageProfile:
    """How a simulated image behaves.

    ``family`` selects the start-up log lines and the usage model; ``serves`` is whether the
    image's default command runs until stopped (a server) rather than exiting at once (a shell);
    ``stop_seconds`` is how long it takes to exit after SIGTERM (``None``: it ignores SIGTERM, as
    a shell running ``sleep`` as PID 1 does, and is killed when the grace period ends).
    """

    family: str
    size: int
    serves: bool = True
    stop_seconds: float | None = 0.5
    cpu_base_millis: float = 2.0
    memory_base_bytes: int = 20 * 2**20
    cpu_per_rps_millis: float = 0.5
    memory_per_rps_bytes: int = 64 * 2**10


MiB = 2**20

# Sizes are what the kubelet reports as "Image size" for linux/amd64, rounded.
_PROFILES: dict[str, ImageProfile] = {
    "nginx": ImageProfile(
        "nginx",
        72_099_501,
        cpu_base_millis=1.0,
        memory_base_bytes=4 * MiB,
        cpu_per_rps_millis=0.2,
        memory_per_rps_bytes=16 * 2**10,
    ),
    "httpd": ImageProfile(
        "httpd",
        58_121_543,
        cpu_base_millis=1.0,
        memory_base_bytes=6 * MiB,
        cpu_per_rps_millis=0.3,
        memory_per_rps_bytes=32 * 2**10,
    ),
    "traefik": ImageProfile("generic", 50_348_263),
    "postgres": ImageProfile(
        "postgres",
        158_263_808,
        stop_seconds=1.5,
        cpu_base_millis=4.0,
        memory_base_bytes=48 * MiB,
        cpu_per_rps_millis=1.0,
        memory_per_rps_bytes=256 * 2**10,
    ),
    "mysql": ImageProfile(
        "mysql",
        170_449_581,
        stop_seconds=2.0,
        cpu_base_millis=6.0,
        memory_base_bytes=360 * MiB,
        cpu_per_rps_millis=1.0,
        memory_per_rps_bytes=256 * 2**10,
    ),
    "redis": ImageProfile(
        "redis",
        45_096_424,
        cpu_base_millis=2.0,
        memory_base_bytes=8 * MiB,
        cpu_per_rps_millis=0.1,
        memory_per_rps_bytes=8 * 2**10,
    ),
    "memcached": ImageProfile("generic", 32_456_102, memory_base_bytes=4 * MiB),
    "mongo": ImageProfile("generic", 327_004_046, stop_seconds=1.0, memory_base_bytes=80 * MiB),
    "busybox": ImageProfile(
        "shell",
        2_155_690,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=512 * 2**10,
    ),
    "alpine": ImageProfile(
        "shell",
        3_653_283,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=768 * 2**10,
    ),
    "ubuntu": ImageProfile(
        "shell",
        29_754_422,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=1 * MiB,
    ),
    "debian": ImageProfile(
        "shell",
        48_494_272,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=1 * MiB,
    ),
    "python": ImageProfile(
        "shell",
        376_151_296,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=9 * MiB,
    ),
    "node": ImageProfile(
        "shell",
        397_672_448,
        serves=False,
        stop_seconds=None,
        cpu_base_millis=0.0,
        memory_base_bytes=12 * MiB,
    ),
    "pause": ImageProfile("generic", 320_368, cpu_base_millis=0.0, memory_base_bytes=256 * 2**10),
}

_SIZE_MIN, _SIZE_SPAN = 8_000_000, 240_000_000  # unknown images: 8 MB .. 248 MB


def image_profile(reference: str) -> ImageProfile:
    """The profile of a known image (by its last path element), or a generic server profile
    whose size comes from the SHA-256 of the normalised name.

    Tags containing ``alpine`` or ``slim`` shrink a known image to 30 % of its size.
    """
    ref = parse_image(reference)
    known = _PROFILES.get(ref.short_name)
    if known is None:
        digest = int(_sha("size", ref.name, ref.tag or ref.digest)[:12], 16)
        return ImageProfile("generic", _SIZE_MIN + digest % _SIZE_SPAN)
    if "alpine" in ref.tag or "slim" in ref.tag:
        return dataclasses.replace(known, size=known.size * 3 // 10)
    return known


def image_size(reference: str) -> int:
    """The image's size in bytes (see :func:`image_profile`)."""
    return image_profile(reference).size


def pull_duration(
    reference: str,
    *,
    present: bool,
    bandwidth_bytes_per_second: float,
    latency_seconds: float,
    jitter: float = 1.0,
) -> float:
    """Seconds a successful pull takes, rounded down to the millisecond.

    ``(latency + size / bandwidth) * jitter``; an image already present (``imagePullPolicy:
    Always``) only checks its manifest: ``latency * jitter``.
    """
    transfer = 0.0 if present else image_size(reference) / bandwidth_bytes_per_second
    return int((latency_seconds + transfer) * jitter * 1000) / 1000


_MISSING_REPOSITORY = (
    'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to '
    'resolve reference "{ref}": pull access denied, repository does not exist or may require '
    "authorization: server message: insufficient_scope: authorization failed"
)
_MISSING_TAG = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to '
    'resolve reference "{ref}": {ref}: not found'
)


def pull_error(reference: str, unpullable: Collection[str] = ()) -> str | None:
    """The runtime's error for an image that cannot be pulled, or None if the pull succeeds.

    ``unpullable`` may list references as written or normalised.
    """
    ref = parse_image(reference)
    if "does-not-exist" in ref.path:
        return _MISSING_REPOSITORY.format(ref=ref)
    tag = ref.tag or ""
    missing_tag = tag == "broken" or "does-not-exist" in tag or "doesnotexist" in tag
    if missing_tag or reference in unpullable or str(ref) in unpullable:
        return _MISSING_TAG.format(ref=ref)
    return None


def node_images_status(references: Iterable[str], limit: int = 50) -> list[dict[str, Any]]:
    """``node.status.images``: each image's digest and tag names and its size, largest first,
    at most ``limit`` entries (the kubelet's ``nodeStatusMaxImages`` default is 50)."""
    entries = []
    for reference in sorted(set(references)):
        ref = parse_image(reference)
        names = [f"{ref.name}@{image_digest(reference)}"]
        if not ref.digest:
            names.append(str(ref))
        entries.append({"names": names, "sizeBytes": image_size(reference)})
    entries.sort(key=lambda entry: (-entry["sizeBytes"], entry["names"][0]))
    return entries[:limit]


def go_duration(seconds: float) -> str:
    """Format a duration as Go's ``time.Duration.String`` does (millisecond precision here).

    ``0.797`` -> ``797ms``; ``1.234`` -> ``1.234s``; ``10`` -> ``10s``; ``80`` -> ``1m20s``;
    ``300`` -> ``5m0s``; ``3725.5`` -> ``1h2m5.5s``; ``0`` -> ``0s``.
    """
    millis = int(round(seconds * 1000))
    if millis == 0:
        return "0s"
    sign = "-" if millis < 0 else ""
    millis = abs(millis)
    if millis < 1000:
        return f"{sign}{millis}ms"
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    whole, frac = divmod(millis, 1000)
    secs = str(whole) + (f".{frac:03d}".rstrip("0") if frac else "")
    text = f"{secs}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text
