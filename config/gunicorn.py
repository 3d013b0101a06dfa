"""Gunicorn configuration (Procfile: `gunicorn config.wsgi -c config/gunicorn.py`)."""

import os

# Containers and PaaS routers reach the process from outside: listen on all interfaces unless HOST
# says otherwise (`make run` sets HOST=127.0.0.1).
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Requests are logged by the application (JSON, with request id and tenant); gunicorn's access
# log would only repeat them in another format.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
