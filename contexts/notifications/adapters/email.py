"""E-mail through Django's e-mail backend (EMAIL_BACKEND: SMTP in production, console in
development, locmem in tests)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .base import ChannelAdapter, ChannelRejected, ChannelUnavailable, OutgoingMessage, SendResult


class EmailAdapter(ChannelAdapter):
    name = "email"
    channel = "email"

    def send(self, message: OutgoingMessage) -> SendResult:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.NOTIFICATIONS_EMAIL_FROM,
            to=[message.to],
            headers={"X-FinFactory-Notification": message.notification_id},
            connection=get_connection(timeout=settings.NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS),
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused:
            raise ChannelRejected("smtp_recipient_refused") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise ChannelRejected(f"smtp_{exc.smtp_code}") from None
            raise ChannelUnavailable(f"smtp_{exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelUnavailable(f"smtp_unavailable: {type(exc).__name__}") from None
        return SendResult(provider_message_id=message.notification_id)
