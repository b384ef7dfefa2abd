"""Stage 2, distill: teacher -> soft labels -> synthetic rows -> student, with a safety net.

:class:`DistilledClassifier` (:mod:`.distiller`) runs these stages in order,
each a module with typed inputs and outputs that an experiment can also call
itself (see ``docs/how-it-works.md``):

1. :mod:`.context` -- encode, code the target, hold out validation rows, draw
   seeds; the factories of teachers and students and the shared time budget;
2. :mod:`.labelling` -- fit the teacher, draw synthetic rows and label them;
3. :mod:`.soft_targets` -- the soft labels every candidate learns from;
4. :mod:`.baseline` and :mod:`.search` -- the baseline on hard labels and the
   distilled candidates over the knob grid and the sizes;
5. :mod:`.gate` -- does the distilled student beat the baseline, for sure?
6. :mod:`.refit` -- the shipped models refit on every labelled row;
7. :mod:`.compression` (optional) and :mod:`.fit_report`.

Building blocks below them: the teacher ensemble (:mod:`.teacher`,
:mod:`.members`, :mod:`.crossfit`, :mod:`.teacher_cache`), augmentation
(:mod:`.augment`), soft labels (:mod:`.labels`), the students (:mod:`.students`,
their sizes and latency cost in :mod:`.sizes`, K-class losses in
:mod:`.objectives`), choosing on validation (:mod:`.selection`), the linear
design shared by the logistic member and the linear student (:mod:`.linear`).
The order is checked by the import contracts in ``pyproject.toml``.

May import: :mod:`tabdistill.data`, :mod:`tabdistill.metrics`,
:mod:`tabdistill.runtime` (students compile themselves into it), the
exceptions and the private helpers. Never evaluation, operations or the CLI.
"""

from tabdistill_runtime._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DistilledClassifier": ".distiller",
        "DistillationWarning": ".distiller",
        "TeacherEnsemble": ".teacher",
        "MEMBER_DEFAULTS": ".members",
        "STUDENTS": ".students",
        "LightGBMStudent": ".students",
        "TreeStudent": ".students",
        "LinearStudent": ".students",
        "Student": ".students",
        "compile_student": ".students",
        "AUGMENTERS": ".augment",
        "Augmenter": ".augment",
        "MungeAugmenter": ".augment",
        "MarginalAugmenter": ".augment",
        "GaussianAugmenter": ".augment",
    },
)
