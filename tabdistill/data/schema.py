"""The feature schema's former home, kept so that saved models keep loading.

:class:`FeatureSchema` lives in the runtime distribution
(:mod:`tabdistill_runtime.schema`). A model saved with skops before the move
names its schema by this module's path; loading resolves it here to the same class.
"""

from tabdistill_runtime.schema import FeatureSchema

__all__ = ["FeatureSchema"]
