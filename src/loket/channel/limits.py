"""Field limits of the Cloud API, shared by the client (which refuses to send) and the sandbox
(which answers with Meta's error). Figures from docs/reference: whatsapp-cloud-api.md section 2."""

from __future__ import annotations

TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60

REPLY_BUTTONS_MIN = 1
REPLY_BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256

LIST_BUTTON_LABEL_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_TOTAL_MAX = 10
LIST_SECTION_TITLE_MAX = 24
LIST_ROW_ID_MAX = 200
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72

CTA_DISPLAY_TEXT_MAX = 20
CTA_URL_MAX = 2000
FLOW_CTA_MAX = 20

BIZ_OPAQUE_CALLBACK_DATA_MAX = 512
TEMPLATE_NAME_MAX = 512
TEMPLATE_QUICK_REPLY_BUTTONS_MAX = 10
TEMPLATE_URL_BUTTONS_MAX = 2

WEBHOOK_BODY_MAX_BYTES = 3 * 1024 * 1024

MEDIA_URL_TTL_SECONDS = 5 * 60
UPLOADED_MEDIA_TTL_DAYS = 30
WEBHOOK_MEDIA_TTL_DAYS = 7

CUSTOMER_SERVICE_WINDOW_SECONDS = 24 * 60 * 60
DEFAULT_MESSAGES_PER_SECOND = 80
PAIR_RATE_INTERVAL_SECONDS = 6.0

MEDIA_MAX_BYTES: dict[str, int] = {
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "image": 5 * 1024 * 1024,
    "sticker": 500 * 1024,
    "video": 16 * 1024 * 1024,
}

MEDIA_MIME_TYPES: dict[str, frozenset[str]] = {
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
    "document": frozenset(
        {
            "text/plain",
            "application/pdf",
            "application/vnd.ms-excel",
            "application/msword",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
    "image": frozenset({"image/jpeg", "image/png"}),
    "sticker": frozenset({"image/webp"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
}
