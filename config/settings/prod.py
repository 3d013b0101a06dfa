"""Production: everything from the environment, HTTPS enforced, `manage.py check --deploy` clean."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")  # required, no default

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Only a plain-HTTP local stack (docker-compose.yml) turns these off.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Never derived in production: the blind indexes of personal identifiers (finfactory.pii) are only
# as secret as this key. Generate one with `python -c "import secrets; print(secrets.token_urlsafe(48))"`.
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")
# Synthetic fraud history is for sandbox pipelines; a production deployment opts in explicitly.
FRAUD_SYNTHETIC_DATA_ALLOWED = env.bool("FRAUD_SYNTHETIC_DATA_ALLOWED", default=False)
# Failpoints exist for crash tests; a production process never kills itself on purpose.
PRODUCTS_FAILPOINTS: list[str] = []
# Webhook endpoints: https only, and no URL naming a private or loopback address.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)
# ... and the delivery-time SSRF guard (resolved addresses) follows the same setting.
