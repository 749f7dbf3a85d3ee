from pathlib import Path

from django.core.management.base import BaseCommand

from forwarding.moog_sink import make_server


class Command(BaseCommand):
    help = "Run the Moogsoft stand-in (records webhook POSTs; GET /received; POST /control)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8099)
        parser.add_argument("--record", default=".run/moog_received.jsonl", help="JSONL file of deliveries")

    def handle(self, *args, **opts):
        record = Path(opts["record"]) if opts["record"] else None
        if record:
            record.parent.mkdir(parents=True, exist_ok=True)
        server = make_server(opts["host"], opts["port"], record)
        self.stdout.write(f"moog sink listening on http://{opts['host']}:{opts['port']}/ (recording to {record})")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
