"""What a file really is, from its bytes (magic numbers), never from the name or type its sender declared.

Scam files reach customers and agents as "Undangan Pernikahan.pdf.apk" or a PDF-named executable, so
the verdict looks at the content, and a declared name with an executable extension is flagged too,
whatever the bytes say. Only a few kinds are ever shown in the console (images inline, documents and
media as downloads); everything that can run, or hides what it holds (archives), is dangerous: never
opened or previewed, only offered to fraud analysts as a quarantined download.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

PREVIEWABLE = frozenset({"jpeg", "png", "gif", "webp"})
DANGEROUS_EXTENSIONS = frozenset(
    {
        "apk", "xapk", "apks", "aab", "dex", "exe", "dll", "scr", "com", "pif", "msi", "bat", "cmd", "ps1", "vbs",
        "vbe", "js", "jse", "wsf", "hta", "jar", "sh", "bin", "elf", "app", "dmg", "pkg", "deb", "rpm", "lnk",
        "reg", "py", "pl", "php", "html", "htm", "svg", "docm", "xlsm", "pptm",
    }
)  # fmt: skip
_SCRIPT_MARKERS = (b"<script", b"<?php", b"@echo off", b"powershell", b"wscript.", b"<html", b"<!doctype html", b"<svg")
_HEAD = 4096


@dataclass(frozen=True, slots=True)
class FileVerdict:
    detected: str  # jpeg, png, gif, webp, pdf, docx, xlsx, pptx, office_legacy, text, ogg, mp3, mp4, amr,
    # apk, jar, exe, elf, macho, dex, script, archive, office_macro, empty, unknown
    mime_type: str  # the type the bytes show; application/octet-stream when unknown or dangerous
    dangerous: bool
    why: str  # a short code for the staff message and the audit log

    @property
    def previewable(self) -> bool:
        return not self.dangerous and self.detected in PREVIEWABLE

    @property
    def sendable_as(self) -> str | None:
        """The WhatsApp message kind an agent may send this as, or None."""
        if self.dangerous:
            return None
        if self.detected in ("jpeg", "png"):
            return "image"
        if self.detected in ("pdf", "docx", "xlsx", "pptx", "office_legacy", "text"):
            return "document"
        return None


def extension_of(filename: str | None) -> str:
    name = (filename or "").strip().lower().rstrip(". ")
    return name.rsplit(".", 1)[-1] if "." in name else ""


def sniff(data: bytes, declared_filename: str | None = None) -> FileVerdict:
    verdict = _from_bytes(data)
    if not verdict.dangerous and extension_of(declared_filename) in DANGEROUS_EXTENSIONS:
        return FileVerdict(verdict.detected, "application/octet-stream", True, "dangerous_name")
    return verdict


def _from_bytes(data: bytes) -> FileVerdict:
    head = data[:_HEAD]
    if not data:
        return FileVerdict("empty", "application/octet-stream", False, "empty")
    simple = _simple(head)
    if simple is not None:
        return simple
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return FileVerdict("office_legacy", "application/msword", False, "office_legacy")
    return _textual(head)


def _simple(head: bytes) -> FileVerdict | None:
    executables = (
        (b"MZ", "exe"),
        (b"\x7fELF", "elf"),
        (b"\xca\xfe\xba\xbe", "macho"),
        (b"\xfe\xed\xfa\xce", "macho"),
        (b"\xfe\xed\xfa\xcf", "macho"),
        (b"\xce\xfa\xed\xfe", "macho"),
        (b"\xcf\xfa\xed\xfe", "macho"),
        (b"dex\n", "dex"),
    )
    for magic, kind in executables:
        if head.startswith(magic):
            return FileVerdict(kind, "application/octet-stream", True, "executable")
    known = (
        (b"\xff\xd8\xff", "jpeg", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
        (b"GIF87a", "gif", "image/gif"),
        (b"GIF89a", "gif", "image/gif"),
        (b"%PDF-", "pdf", "application/pdf"),
        (b"OggS", "ogg", "audio/ogg"),
        (b"ID3", "mp3", "audio/mpeg"),
        (b"#!AMR", "amr", "audio/amr"),
    )
    for magic, kind, mime in known:
        if head.startswith(magic):
            return FileVerdict(kind, mime, False, kind)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileVerdict("webp", "image/webp", False, "webp")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        kind, mime = ("mp4", "audio/mp4") if brand.startswith(b"M4A") else ("mp4", "video/mp4")
        return FileVerdict(kind, mime, False, "mp4")
    if head.startswith(b"#!"):
        return FileVerdict("script", "application/octet-stream", True, "script")
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return FileVerdict("mp3", "audio/mpeg", False, "mp3")
    return None


def _zip(data: bytes) -> FileVerdict:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return FileVerdict("archive", "application/octet-stream", True, "archive_unreadable")
    lowered = {name.lower() for name in names}
    if "androidmanifest.xml" in lowered or "classes.dex" in lowered or any(n.endswith(".apk") for n in lowered):
        return FileVerdict("apk", "application/octet-stream", True, "android_package")
    if "meta-inf/manifest.mf" in lowered or any(name.endswith(".class") for name in lowered):
        return FileVerdict("jar", "application/octet-stream", True, "java_archive")
    if "[content_types].xml" in lowered:
        if any(name.endswith("vbaproject.bin") for name in lowered):
            return FileVerdict("office_macro", "application/octet-stream", True, "office_macro")
        for prefix, kind, mime in (
            ("word/", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("xl/", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("ppt/", "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ):
            if any(name.startswith(prefix) for name in lowered):
                return FileVerdict(kind, mime, False, kind)
    # An archive hides what it holds (often an APK): it cannot be checked here, so it is not opened.
    return FileVerdict("archive", "application/octet-stream", True, "archive")


def _textual(head: bytes) -> FileVerdict:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the head is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return FileVerdict("unknown", "application/octet-stream", True, "unknown")
    lowered = text.lower().encode()
    if any(marker in lowered for marker in _SCRIPT_MARKERS):
        return FileVerdict("script", "application/octet-stream", True, "script")
    if any(ord(char) < 9 or 13 < ord(char) < 32 for char in text):
        return FileVerdict("unknown", "application/octet-stream", True, "unknown")
    return FileVerdict("text", "text/plain", False, "text")
