"""E-mail helpers."""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class ReadableConsoleBackend(ConsoleBackend):
    """The local-demo backend: prints each e-mail as plain text, so a link can be copied
    from the log as is (the raw MIME form wraps long lines and encodes "=")."""

    def write_message(self, message):
        self.stream.write(
            f"To: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}\n"
        )
        self.stream.write("-" * 79 + "\n")
