# MUTT application image: the same code runs every process (ingest, web,
# workers, beat, flower, the Moogsoft stand-in); docker-compose.yml picks
# the command. Keep the commands in step with the Procfile.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=mutt_project.settings \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app
RUN python -m venv /app/.venv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 mutt && mkdir -p /app/.run && chown -R mutt /app/.run
USER mutt
EXPOSE 8080 8090 5555 8099
CMD ["gunicorn", "mutt_project.wsgi:application", "--bind", "0.0.0.0:8090", "--workers", "2", "--threads", "4"]
