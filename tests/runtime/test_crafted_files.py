"""Every class of crafted file the loader fuzz uses is refused cleanly, or loads and scores."""

import numpy as np
import pytest
from crafted import RUNTIME_CLASSES, CraftedRuntime, tiled_trees
from test_format import runtime  # noqa: F401  (the fixture)

from tabdistill_runtime import ArtifactError, CompiledModel


@pytest.mark.parametrize("kind", RUNTIME_CLASSES)
def test_crafted_runtime_files_are_refused_or_score(runtime, kind, tmp_path):  # noqa: F811
    crafted = CraftedRuntime(runtime, seed=1, scale=0.02)
    rows = np.zeros((5, runtime.n_features))
    refused = 0
    for i in range(16):
        _, source = crafted(kind, i, tmp_path)
        try:
            model = CompiledModel.load(source)
        except ArtifactError:
            refused += 1
        else:
            assert np.isfinite(model.score_encoded(rows)).all()
        source.unlink()
    assert refused >= 12  # a few zero-array files are well-formed models


def test_a_well_formed_model_above_the_node_cap_is_refused_and_below_it_loads(runtime):  # noqa: F811
    meta = {"source": "lightgbm", "output": 1, "base": 0.0, "n_outputs": 1}
    arrays = tiled_trees(40, 16, runtime.n_features)  # 40 trees of 31 nodes
    blob = CompiledModel("trees", arrays, runtime.schema, meta).to_bytes()
    with pytest.raises(ArtifactError, match="1,240 tree nodes, more than the 1,239"):
        CompiledModel.load(blob, max_bytes=1_239 * 48)
    assert CompiledModel.load(blob, max_bytes=1_240 * 48).n_trees == 40
