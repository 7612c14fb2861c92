"""The owned training data (synthetic schemas, demo sources) and the fitting helpers."""

import csv
import random
from pathlib import Path

import numpy as np

from autonomos.matching import _params
from autonomos.matching.fit import ece, fit_logistic
from autonomos.matching.model import CAL_FEATURES, MatcherModel
from autonomos.matching.signals import FEATURES
from autonomos.matching.synth import Generator
from autonomos.matching.training_data import DEMO_TRUTH, IGNORE, demo_schemas, known_schemas

ROOT = Path(__file__).resolve().parents[3]


def test_generator_is_deterministic_and_labels_valid_targets(ontology):
    a = [s.schema for s in Generator(ontology, seed=4).generate(2)]
    b = [s.schema for s in Generator(ontology, seed=4).generate(2)]
    assert a == b
    for labelled in Generator(ontology, seed=9).generate(3):
        names = [f.name for f in labelled.schema.fields]
        assert len(names) == len(set(names))
        assert labelled.truth, "every schema carries some true mappings"
        for source, target in labelled.truth.items():
            assert source in names
            entity, field = target.split(".")
            assert entity == labelled.entity
            assert ontology.entity(entity).has_field(field)
        assert len(names) > len(labelled.truth)  # and fields that map to nothing


def test_demo_truth_names_real_columns_and_fields(ontology):
    for fname, (entity, labels) in DEMO_TRUTH.items():
        with (ROOT / "mock_sources" / fname).open(newline="") as fh:
            header = next(csv.reader(fh))
        assert set(labels) == set(header), fname
        for target in labels.values():
            if target not in (None, IGNORE):
                assert ontology.entity(entity).has_field(target), (fname, target)
    assert len(demo_schemas(random.Random(0))) == len(DEMO_TRUTH)


def test_fit_logistic_recovers_a_known_model_and_respects_bounds():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))).astype(int)
    w, b = fit_logistic(x, y, l2=0.1)
    assert abs(w[0] - 2.0) < 0.3 and abs(w[1] + 1.0) < 0.3 and abs(b - 0.5) < 0.2
    w2, _ = fit_logistic(x, y, l2=0.1, nonneg=(1,))
    assert w2[1] >= 0


def test_ece_of_a_perfectly_calibrated_sample_is_small():
    rng = np.random.default_rng(1)
    conf = rng.random(20000)
    ok = (rng.random(20000) < conf).astype(int)
    assert ece(conf, ok) < 0.02
    assert ece(np.full(100, 0.9), np.zeros(100)) > 0.8


def test_shipped_parameters_cover_every_signal():
    for params in (_params.LEXICAL, _params.DENSE):
        model = MatcherModel.from_dict(params)
        assert set(params["pair"]["weights"]) == set(FEATURES)
        assert set(params["calibrator"]["weights"]) == set(CAL_FEATURES)
        assert 0.2 <= model.threshold <= 0.8
    assert _params.LEXICAL["pair"]["weights"]["dense"] == 0.0


def test_known_systems_are_valid_labelled_schemas(ontology):
    schemas = known_schemas()
    assert len(schemas) >= 6
    for labelled in schemas:
        names = {f.name for f in labelled.schema.fields}
        for source, target in labelled.truth.items():
            assert source in names, source
            if target != IGNORE:
                entity, field = target.split(".")
                assert entity == labelled.entity and ontology.entity(entity).has_field(field)
