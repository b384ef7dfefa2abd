"""Stage 2, distill: teacher -> synthetic rows -> soft labels -> student, with a safety net.

Owns the teacher ensemble (:mod:`.members`, :mod:`.teacher`), augmentation
(:mod:`.augment`), soft labels (:mod:`.labels`), the linear design shared by
the logistic member and the linear student (:mod:`.linear`), the students
(:mod:`.students`), choosing among them on validation (:mod:`.selection`) and
the estimator that runs it all, :class:`DistilledClassifier` (:mod:`.distiller`).

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
