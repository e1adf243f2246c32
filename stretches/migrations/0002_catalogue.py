"""Load the five stretches of the catalogue (SPEC 1.1).

Written in our own words from the seed article. Every exercise is created or updated
by slug, so running the migration again leaves one row per stretch. The reverse
deletes the five slugs (it fails on purpose if logged sessions still point at them).
"""

from django.db import migrations

SLUGS = (
    "single-knee-to-chest",
    "double-knee-to-chest",
    "figure-four",
    "standing-knee-hug",
    "morning-in-bed",
)


def breathing(moving: str) -> list[str]:
    """The breathing cues every hold shares; ``moving`` is what you draw in."""
    return [
        "Before you start, take a slow breath in through your nose.",
        f"Let the air out slowly through gently pursed lips as you bring {moving} in.",
        "Keep breathing evenly while you hold: one full breath in and out every 4 to 6 seconds.",
        "Never hold your breath. If you notice you have, breathe out and ease off a little.",
    ]


WARNING_SIGNS = [
    "Stop if numbness or tingling gets worse.",
    "Stop if you feel sharp or shooting pain instead of a gentle stretch.",
    "Stop if pain lasts more than 2 hours after you finish, and report it at your next session.",
    "Stop if a muscle cramps or goes into spasm.",
]

STRAP = "A yoga strap looped round your thigh, if you cannot reach your leg comfortably."
PILLOW = "A thin pillow under your head, only if your neck feels tense."
TOWEL = "A small folded towel under the curve of your lower back, if it feels unsupported."
WALL = "A wall close by, to steady yourself when you get back up."

FLOOR = "Use a firm mat on a hard floor, not a soft bed or thick carpet, so your back stays level."

HOLD_KNEECAP = {
    "mistake": "Holding the kneecap.",
    "fix": "Put your hands behind your thigh instead, or on your shin if that is easier.",
}
BREATH_HELD = {
    "mistake": "Holding your breath during the hold.",
    "fix": "Keep breathing slowly and evenly, one full breath every 4 to 6 seconds.",
}
BOUNCING = {
    "mistake": "Bouncing or tugging to get further.",
    "fix": "Move slowly and smoothly, with a steady, light hold.",
}

CATALOGUE = [
    {
        "slug": "single-knee-to-chest",
        "position": 1,
        "name": "Single knee to chest",
        "summary": (
            "The main stretch of your plan: lying on your back, you gently bring one knee "
            "towards your chest, then the other."
        ),
        "who_for": (
            "Everyone starts here. It is the gentlest lying version and the stretch you will "
            "do most days."
        ),
        "setup": (
            f"Lie on your back with both legs resting on the floor and your arms at your sides. "
            f"Let your lower back keep its natural small curve. {FLOOR}"
        ),
        "steps": [
            "Breathe in through your nose.",
            "As you breathe out slowly, bring one knee up towards your chest.",
            "Hold the back of that thigh with both hands, not the kneecap.",
            "Leave your other leg on the floor, with its heel lightly resting on the mat.",
            "Draw the knee in slowly. Stop as soon as your lower back feels a gentle, comfortable stretch.",
            "Stay there for the hold time in your plan, breathing steadily.",
            "Lower the leg slowly back to the floor and rest for a breath or two.",
            "Switch legs. Do 2 to 3 holds on each side.",
        ],
        "breathing": breathing("the knee"),
        "mistakes": [
            HOLD_KNEECAP,
            {
                "mistake": "Your lower back lifts off the mat.",
                "fix": "Let the knee move away a little and gently tighten your stomach so your back rests on the floor.",
            },
            {
                "mistake": "Pulling the knee as close as it will go.",
                "fix": "Stop at the first comfortable stretch. If it hurts, you have gone too far.",
            },
            {
                "mistake": "Lifting the other leg off the floor.",
                "fix": "Keep the other heel resting on the mat the whole time.",
            },
            BOUNCING,
            BREATH_HELD,
        ],
        "warning_signs": WARNING_SIGNS,
        "accessories": [STRAP, PILLOW, TOWEL, WALL],
        "rules_text": (
            "Your plan sets the hold week by week: 15 to 20 seconds in weeks 1-2, 30 to 45 "
            "seconds in weeks 3-4, and 45 to 60 seconds from week 5. Do 2 to 3 holds on each "
            "leg. A hold is never longer than 60 seconds."
        ),
        "hold_min_seconds": 15,
        "hold_max_seconds": 60,
        "reps": 3,
    },
    {
        "slug": "double-knee-to-chest",
        "position": 2,
        "name": "Double knee to chest",
        "summary": (
            "The next step once the single-leg stretch has been pain-free for two weeks: you "
            "bring both knees towards your chest together."
        ),
        "who_for": (
            "People who have done the single-leg stretch for at least two weeks without pain. "
            "The app unlocks it when at least 14 days have passed since you started, you have "
            "logged single-leg sessions on 10 of the last 14 days, you reported no stop signal, "
            "and no session in the last 7 days left you in more pain than before it."
        ),
        "setup": (
            f"Lie on your back with your head resting on the floor and your neck relaxed. {FLOOR}"
        ),
        "steps": [
            "Breathe in through your nose.",
            "As you breathe out slowly, bring one knee up, then the other.",
            "Put your arms round both shins, or hold behind both thighs.",
            "Draw both knees in slowly. Stop as soon as you feel a comfortable stretch.",
            "Keep your head resting on the floor. There is no need to lift it to see your knees.",
            "If it feels good, rock very gently from side to side.",
            "Stay there for up to 30 seconds, breathing steadily.",
            "Lower one foot to the floor, then the other, slowly.",
            "Rest for a moment, then repeat. Do 3 holds in all.",
        ],
        "breathing": breathing("your knees"),
        "mistakes": [
            {
                "mistake": "Lifting your head to watch your knees.",
                "fix": "Let your head rest on the floor and keep your neck soft.",
            },
            {
                "mistake": "Holding for longer than 30 seconds.",
                "fix": "Let go at 30 seconds. This stretch stays at 30 seconds or less, even later on.",
            },
            {
                "mistake": "Rocking hard or fast.",
                "fix": "Keep any rocking small and slow, just a gentle sway.",
            },
            {
                "mistake": "Pulling both knees in hard.",
                "fix": "Stop at the first comfortable stretch. A gentle stretch is enough.",
            },
            {
                "mistake": "Dropping both feet to the floor at once.",
                "fix": "Lower one leg at a time, slowly.",
            },
            BREATH_HELD,
        ],
        "warning_signs": WARNING_SIGNS,
        "accessories": [PILLOW, TOWEL, WALL],
        "rules_text": (
            "Hold for 15 to 30 seconds, and never more than 30 seconds. Do 3 holds. Only "
            "after two weeks of pain-free single-leg stretching, when the app unlocks it."
        ),
        "hold_min_seconds": 15,
        "hold_max_seconds": 30,
        "reps": 3,
    },
    {
        "slug": "figure-four",
        "position": 3,
        "name": "Figure-four stretch",
        "summary": (
            "A lying stretch for the piriformis, a muscle deep in the buttock, for people "
            "whose sciatica comes from it."
        ),
        "who_for": (
            "People whose sciatica (pain running down one leg) comes from the piriformis muscle "
            "in the buttock. You do it on the side that hurts. If you are not sure where your "
            "leg pain comes from, ask a clinician before adding it."
        ),
        "setup": (
            f"Lie on your back with both knees bent and both feet flat on the floor. {FLOOR}"
        ),
        "steps": [
            "Breathe in through your nose.",
            "Cross the ankle of your sore side over the knee of your other leg. For example, "
            "if your right leg hurts, rest your right ankle on your left knee.",
            "As you breathe out slowly, lift the other foot off the floor and hold behind "
            "that thigh with both hands.",
            "Draw that thigh slowly towards your chest. Stop as soon as you feel a comfortable "
            "stretch in the buttock of your sore side.",
            "Stay there for 20 to 30 seconds, breathing steadily.",
            "Lower the foot slowly back to the floor and uncross your legs.",
            "Rest for a moment, then repeat. Do 3 holds on your sore side.",
        ],
        "breathing": breathing("the thigh"),
        "mistakes": [
            {
                "mistake": "Crossing the wrong leg.",
                "fix": "The ankle of the side that hurts goes over the other knee.",
            },
            {
                "mistake": "Lifting your head and shoulders to reach the thigh.",
                "fix": "Keep your head on the floor. Loop a strap round the thigh if you cannot reach it.",
            },
            {
                "mistake": "Drawing the thigh in fast or hard.",
                "fix": "Bring it in slowly and stop at the first comfortable stretch.",
            },
            BREATH_HELD,
        ],
        "warning_signs": WARNING_SIGNS,
        "accessories": [STRAP, PILLOW, TOWEL, WALL],
        "rules_text": "Hold for 20 to 30 seconds. Do 3 holds, on the side that hurts.",
        "hold_min_seconds": 20,
        "hold_max_seconds": 30,
        "reps": 3,
    },
    {
        "slug": "standing-knee-hug",
        "position": 4,
        "name": "Standing knee hug",
        "summary": (
            "A short standing stretch for desk work: every 2 hours, stand up and hug each knee "
            "towards your chest in turn, 30 seconds a side."
        ),
        "who_for": (
            "People who sit for long periods at work. It breaks up the sitting without "
            "needing to lie down."
        ),
        "setup": (
            "Stand next to a wall or a steady desk that you can hold for balance. Stand tall "
            "with both feet flat on the floor."
        ),
        "steps": [
            "Rest one hand on the wall or desk.",
            "Breathe in through your nose.",
            "As you breathe out slowly, lift one knee and hold it with your free hand, "
            "behind the thigh or on the shin, not on the kneecap.",
            "Keep your other foot flat on the floor and that knee slightly bent, not locked.",
            "Draw the knee in slowly and stop at the first comfortable stretch.",
            "Rock the knee very gently from side to side.",
            "Stay there for 30 seconds, breathing steadily.",
            "Lower the foot slowly, then do the same with the other leg.",
        ],
        "breathing": breathing("the knee"),
        "mistakes": [
            {
                "mistake": "Letting go of your support.",
                "fix": "Keep one hand on the wall or desk the whole time.",
            },
            {
                "mistake": "Rising onto the toes of the standing foot.",
                "fix": "Keep that foot flat on the floor.",
            },
            {
                "mistake": "Leaning back or bending forward to reach the knee.",
                "fix": "Stand tall and lift the knee only as high as is comfortable.",
            },
            {
                "mistake": "Swinging the knee from side to side.",
                "fix": "Keep the rocking small and slow.",
            },
            BREATH_HELD,
        ],
        "warning_signs": WARNING_SIGNS,
        "accessories": [
            "A wall or a steady desk to hold for balance.",
            STRAP,
        ],
        "rules_text": "Every 2 hours at work: hold for 30 seconds, once on each leg.",
        "hold_min_seconds": 30,
        "hold_max_seconds": 30,
        "reps": 1,
    },
    {
        "slug": "morning-in-bed",
        "position": 5,
        "name": "Morning stretch in bed",
        "summary": (
            "A short, gentle routine you do in bed before getting up, followed by a careful "
            "way to get out of bed."
        ),
        "who_for": "Anyone whose back feels stiff first thing in the morning.",
        "setup": (
            "Stay lying on your back in bed when you wake up. A bed is too soft for your "
            "main sessions, but it is fine here because these holds are short and very gentle."
        ),
        "steps": [
            "Lying on your back, breathe in through your nose.",
            "As you breathe out slowly, bring one knee towards your chest, holding behind the thigh.",
            "Keep your other heel resting on the mattress.",
            "Stop at the first comfortable stretch and stay there for 15 to 20 seconds, "
            "breathing steadily.",
            "Lower the leg slowly and switch sides.",
            "Do 3 slow holds on each leg.",
            "To get up, bend your knees and roll onto your side.",
            "Push yourself up to sitting with your arms as your legs come over the edge of "
            "the bed. Never sit straight up while flat on your back.",
        ],
        "breathing": breathing("the knee"),
        "mistakes": [
            {
                "mistake": "Sitting straight up while flat on your back.",
                "fix": "Roll onto your side first, then push up with your arms.",
            },
            {
                "mistake": "Rushing through the holds.",
                "fix": "Your back is still stiff, so move slowly and keep each stretch gentle.",
            },
            {
                "mistake": "Pulling harder because the mattress gives way.",
                "fix": "Stop at the first comfortable stretch, however soft the bed feels.",
            },
            HOLD_KNEECAP,
        ],
        "warning_signs": WARNING_SIGNS,
        "accessories": [PILLOW, STRAP],
        "rules_text": (
            "Do 3 slow holds on each leg, lying on your back, before you get up. Hold each "
            "for 15 to 20 seconds. The source gives no hold time here, so the app keeps it "
            "short on purpose."
        ),
        "hold_min_seconds": 15,
        "hold_max_seconds": 20,
        "reps": 3,
    },
]


def load_catalogue(apps, schema_editor):
    Exercise = apps.get_model("stretches", "Exercise")
    for entry in CATALOGUE:
        fields = dict(entry)
        slug = fields.pop("slug")
        Exercise.objects.update_or_create(slug=slug, defaults=fields)


def remove_catalogue(apps, schema_editor):
    Exercise = apps.get_model("stretches", "Exercise")
    Exercise.objects.filter(slug__in=SLUGS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stretches", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_catalogue, remove_catalogue),
    ]
