"""A real SMTP server for tests (aiosmtpd): accepts every message on 127.0.0.1 and appends it
to a JSON-lines file. Prints the port once listening; runs until killed."""
import email
import email.policy
import json
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message.get("Subject", "")),
            "text": plain.get_content() if plain is not None else "",
            "html": html.get_content() if html is not None else "",
            # A CR not followed by LF anywhere in the message as it came over the wire.
            "bare_cr": b"\r" in envelope.content.replace(b"\r\n", b""),
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted"


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Sink(path), hostname="127.0.0.1", port=port)
    controller.start()
    print(controller.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
