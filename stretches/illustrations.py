"""The drawings on each stretch's page: a start and an end position, with their words.

Plain data beside the catalogue (which lives in the database and is edited in the
admin): the drawings are files the app ships, so their descriptions ship with them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Illustration:
    file: str  # under static/
    caption: str  # what the position is, shown under the drawing
    alt: str  # what the drawing shows, for someone who cannot see it
    height: int  # of the 320-wide drawing, so the page keeps its space before it loads


def _pair(
    slug: str, start: tuple[str, str], end: tuple[str, str], *, height: int = 130
) -> list[Illustration]:
    return [
        Illustration(f"img/stretch-{slug}-start.svg", f"Start: {start[0]}", start[1], height),
        Illustration(f"img/stretch-{slug}-end.svg", f"End: {end[0]}", end[1], height),
    ]


ILLUSTRATIONS: dict[str, list[Illustration]] = {
    "single-knee-to-chest": _pair(
        "single-knee-to-chest",
        (
            "lie on your back, legs resting on the floor",
            "Line drawing of a person lying on their back on a mat, both legs straight "
            "on the floor and arms by their sides.",
        ),
        (
            "one knee drawn in, hands behind the thigh",
            "Line drawing of the same person with one knee drawn up towards the chest, "
            "both hands holding behind that thigh, and the other leg straight with its "
            "heel on the floor. An arrow shows the knee moving in.",
        ),
    ),
    "double-knee-to-chest": _pair(
        "double-knee-to-chest",
        (
            "lie on your back with both knees bent",
            "Line drawing of a person lying on their back on a mat, both knees bent and "
            "both feet flat on the floor.",
        ),
        (
            "both knees drawn in, arms round the shins",
            "Line drawing of the same person with both knees drawn up towards the chest "
            "and the arms round both shins, head resting on the floor. An arrow shows "
            "the knees moving in.",
        ),
    ),
    "figure-four": _pair(
        "figure-four",
        (
            "the sore side's ankle rests on the other knee",
            "Line drawing of a person lying on their back with knees bent, one ankle "
            "crossed over the other knee, making a figure four.",
        ),
        (
            "the other thigh drawn towards the chest",
            "Line drawing of the same person lifting the supporting foot off the floor "
            "and holding behind that thigh with both hands, drawing it towards the chest "
            "with the ankle still crossed over it. An arrow shows the thigh moving in.",
        ),
    ),
    "standing-knee-hug": _pair(
        "standing-knee-hug",
        (
            "stand tall, one hand on a wall or desk",
            "Line drawing of a person standing upright beside a wall, one hand resting on "
            "the wall and both feet flat on the floor.",
        ),
        (
            "one knee lifted and held, the other foot flat",
            "Line drawing of the same person lifting one knee towards the chest and "
            "holding the shin with the free hand, the other foot flat on the floor and "
            "one hand still on the wall. An arrow shows the knee lifting.",
        ),
        height=200,
    ),
    "morning-in-bed": _pair(
        "morning-in-bed",
        (
            "on your back in bed, one knee drawn in",
            "Line drawing of a person lying on their back in bed, head on the pillow, one "
            "knee drawn towards the chest with the hands behind the thigh and the other "
            "heel on the mattress.",
        ),
        (
            "roll onto your side and push up with your arms",
            "Line drawing of the person after rolling onto their side with knees bent, "
            "pushing the upper body up from the mattress with both arms rather than "
            "sitting straight up. An arrow shows the body rising.",
        ),
    ),
}


def illustrations_for(slug: str) -> list[Illustration]:
    return ILLUSTRATIONS.get(slug, [])
