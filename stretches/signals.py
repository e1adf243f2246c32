"""Every save or delete of a stretch retires the shared cache's copy of the catalogue
(tracking.plan.catalogue_rules), whoever makes it: the admin's form or its list edits."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lib.cache import retire

# The shared cache's name for the catalogue (tracking.plan.catalogue_rules), and which
# of its copies: one for every process, whatever its settings, so that a save in any of
# them (the admin in a worker, a shell, a test) retires the one the others read.
CATALOGUE = "catalogue"
# A new name when what is kept changes (CATALOGUE_FIELDS, or how a stretch is pickled:
# v2 holds lib.pickling's compact form, which the release before cannot read).
CATALOGUE_COPY = "rules-v2"


def catalogue_changed() -> None:
    retire(CATALOGUE, CATALOGUE_COPY)


@receiver(post_save, sender="stretches.Exercise", dispatch_uid="easeback-exercise-saved")
@receiver(post_delete, sender="stretches.Exercise", dispatch_uid="easeback-exercise-deleted")
def _exercise_written(sender, instance, **kwargs) -> None:
    catalogue_changed()
