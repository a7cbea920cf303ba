"""``manage.py lesson``: list the lessons, or play some headless against the running cluster.

Before a class, ``manage.py lesson nodes-and-pods --speed 20`` (with ``make demo`` running)
plays the lesson from start to end as the player would, pressing Next whenever it may, and
says where it stopped if a step errs or a wait never holds. The lesson is left at its end, as
after a class; the clock is left at the speed given. ``manage.py lesson`` alone lists the
lessons, or every problem of the lesson files.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.lessons import engine


class Command(BaseCommand):
    help = "List the lessons, or play lessons headless against the running cluster."

    def add_arguments(self, parser):
        parser.add_argument("lessons", nargs="*", help="lesson ids to play (all: every lesson)")
        parser.add_argument(
            "--speed", type=float, default=None, help="the clock's speed for the whole run"
        )
        parser.add_argument(
            "--timeout", type=float, default=600.0, help="real seconds per lesson at most"
        )

    def handle(self, *args, lessons: list[str], speed, timeout: float, **options):
        if lessons and lessons != ["all"]:
            chosen = []
            for name in lessons:
                try:
                    chosen.append(engine.get(name))  # a broken other file does not stop it
                except KeyError:
                    raise CommandError(f"no such lesson: {name}") from None
                except engine.LessonFormatError as error:
                    raise CommandError("\n".join(error.problems)) from None
            self._play(chosen, speed, timeout)
            return
        try:
            known = engine.all_lessons()
        except engine.LessonFormatError as error:
            raise CommandError("\n".join(error.problems)) from None
        if not lessons:
            for lesson in known:
                self.stdout.write(
                    f"{lesson.order:2d}  {lesson.id:<22} {len(lesson.steps):3d} steps  "
                    f"{lesson.namespace:<22} {lesson.title.en} / {lesson.title.zh_hans}"
                )
            return
        self._play(known, speed, timeout)

    def _play(self, lessons: list[engine.Lesson], speed, timeout: float) -> None:
        for lesson in lessons:
            self.stdout.write(f"{lesson.id}: playing {len(lesson.steps)} steps…")
            try:
                engine.run(lesson, actor="manage.py:lesson", speed=speed, timeout=timeout)
            except engine.LessonFailed as failed:
                raise CommandError(str(failed)) from None
            self.stdout.write(self.style.SUCCESS(f"{lesson.id}: every step done"))
