"""Media held by the sandbox: uploads by the business (30 days) and customers' uploads (7 days), with
short-lived download URLs (5 minutes), all on the injected clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from loket.channel.limits import (
    MEDIA_MAX_BYTES,
    MEDIA_MIME_TYPES,
    MEDIA_URL_TTL_SECONDS,
    UPLOADED_MEDIA_TTL_DAYS,
    WEBHOOK_MEDIA_TTL_DAYS,
)
from loket.clock import Clock
from loket.sandbox.ids import download_token, node_id


@dataclass(slots=True)
class MediaItem:
    id: str
    phone_number_id: str
    data: bytes
    mime_type: str
    sha256: str
    filename: str | None
    created_at: datetime
    expires_at: datetime

    @property
    def file_size(self) -> int:
        return len(self.data)


def media_kind(mime_type: str) -> str | None:
    """The Cloud API media type (image, document, ...) that accepts this MIME type, if any."""
    base = mime_type.split(";", 1)[0].strip().lower()
    for kind in ("image", "video", "audio", "document"):
        if base in MEDIA_MIME_TYPES[kind]:
            return kind
    if base in MEDIA_MIME_TYPES["sticker"]:
        return "sticker"
    return None


def size_limit(mime_type: str) -> int:
    kind = media_kind(mime_type)
    return MEDIA_MAX_BYTES[kind] if kind else 0


class MediaStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._items: dict[str, MediaItem] = {}
        self._downloads: dict[str, tuple[str, datetime]] = {}

    def put(
        self,
        phone_number_id: str,
        data: bytes,
        mime_type: str,
        filename: str | None = None,
        *,
        from_webhook: bool = False,
    ) -> MediaItem:
        now = self._clock.now()
        ttl = timedelta(days=WEBHOOK_MEDIA_TTL_DAYS if from_webhook else UPLOADED_MEDIA_TTL_DAYS)
        item = MediaItem(
            id=node_id(),
            phone_number_id=phone_number_id,
            data=data,
            mime_type=mime_type,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=filename,
            created_at=now,
            expires_at=now + ttl,
        )
        self._items[item.id] = item
        return item

    def get(self, media_id: str) -> MediaItem | None:
        item = self._items.get(media_id)
        if item is not None and item.expires_at <= self._clock.now():
            del self._items[media_id]
            return None
        return item

    def delete(self, media_id: str) -> bool:
        return self._items.pop(media_id, None) is not None

    def issue_download(self, media_id: str) -> str:
        self._expire_downloads()
        token = download_token()
        self._downloads[token] = (media_id, self._clock.now() + timedelta(seconds=MEDIA_URL_TTL_SECONDS))
        return token

    def redeem(self, token: str) -> MediaItem | None:
        entry = self._downloads.get(token)
        if entry is None or entry[1] <= self._clock.now():
            return None
        return self.get(entry[0])

    def _expire_downloads(self) -> None:
        now = self._clock.now()
        for token in [t for t, (_, expires) in self._downloads.items() if expires <= now]:
            del self._downloads[token]

    def clear(self) -> None:
        self._items.clear()
        self._downloads.clear()
