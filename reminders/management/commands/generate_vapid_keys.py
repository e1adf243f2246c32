from django.core.management.base import BaseCommand

from reminders.push import generate_vapid_keys


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push, as environment variables."

    def handle(self, *args, **options):
        public, private = generate_vapid_keys()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
        self.stdout.write("VAPID_SUBJECT=mailto:you@example.com")
        self.stderr.write(
            "Keep the private key secret. Changing the pair later means every device has "
            "to turn reminders on again."
        )
