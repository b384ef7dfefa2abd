"""The exporters refuse what they cannot score as the runtime does, saying what to do."""

import numpy as np
import pytest
from conftest import mixed_frame
from sklearn.linear_model import LogisticRegression
from xgboost import XGBClassifier

from tabdistill.data import TabularEncoder
from tabdistill.distill.linear import LinearDesign
from tabdistill.export.c_source import to_c
from tabdistill.export.onnx_graph import to_onnx
from tabdistill_runtime.from_linear import compile_linear
from tabdistill_runtime.from_members import compile_blend
from tabdistill_runtime.from_xgboost import compile_xgboost


@pytest.fixture(scope="module")
def models():
    X, y = mixed_frame(n=300, seed=9)
    enc = TabularEncoder().fit(X)
    Z = enc.encode(X)
    design = LinearDesign(categorical_mask=enc.categorical_mask_).fit(Z)
    linear = compile_linear(design, LogisticRegression().fit(design.transform(Z), y), enc.schema_)
    booster = XGBClassifier(n_estimators=3).fit(np.nan_to_num(Z), y).get_booster()
    teacher = compile_blend([("logistic", 1.0, [(linear, None)])], enc.schema_, 2)
    return teacher, compile_xgboost(booster, enc.schema_)


@pytest.mark.parametrize("export", [to_c, to_onnx])
def test_a_compiled_teacher_and_float32_sums_are_refused(models, export):
    pytest.importorskip("onnx")
    teacher, xgboost = models
    with pytest.raises(ValueError, match="a compiled teacher .* export the student"):
        export(teacher)
    with pytest.raises(ValueError, match="summed in float32 .* score it with tabdistill-runtime"):
        export(xgboost)
