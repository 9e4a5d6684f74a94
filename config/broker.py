"""kombu's filesystem transport (the embedded default broker), with messages written atomically.

kombu 5.7 creates a message file and then writes into it; a worker polling the folder can take
the file in between and read it empty, which stops the worker with "Unrecoverable error:
JSONDecodeError" (seen with 20 webhooks published at once while a worker polled every 0.1 s).
Here a message is written under a name the reader skips (``….msg.part``) and renamed when
complete: a rename within one folder is atomic, so a reader sees a whole message or none.
``filesystem://`` URLs name this transport: ``register`` points kombu's alias at it (called by
``config.celery``), so every process that uses the Celery app (web, worker, beat, tests) gets it.
Production runs on Redis or RabbitMQ and never uses it.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """``filesystem://`` means this transport from now on (kombu's table of URL schemes)."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
