import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
application = get_wsgi_application()

from mutt_project.redis_client import startup_check  # noqa: E402 - needs settings

startup_check()  # Sentinel settings that cannot work stop the process with the setting's name
