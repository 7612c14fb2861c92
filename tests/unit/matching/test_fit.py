"""The owned training data (synthetic schemas, demo sources) and the fitting helpers."""

import csv
import random
from pathlib import Path

import numpy as np

from autonomos.matching import _params
from autonomos.matching.evaluate import ece
from autonomos.matching.learn import fit_entity, fit_logistic
from autonomos.matching.model import CAL_FEATURES, ENTITY_FEATURES, NONE_FEATURES, MatcherModel
from autonomos.matching.signals import FEATURES
from autonomos.matching.synth import Generator
from autonomos.matching.training_data import DEMO_TRUTH, IGNORE, corpus_schemas, demo_schemas

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
        assert set(params["entity"]["weights"]) == set(ENTITY_FEATURES)
        assert set(params["entity"]["none_weights"]) == set(NONE_FEATURES)
        assert 0.2 <= model.threshold <= 0.8
    assert _params.LEXICAL["pair"]["weights"]["dense"] == 0.0


FORBIDDEN = {
    "hubspot",
    "pipedrive",
    "close",
    "closeio",
    "freshdesk",
    "chargebee",
    "recurly",
    "braintree",
    "intercom",
    "harvest",
    "shopify",
    "constant-contact",
    "constantcontact",
}


def test_corpus_is_valid_labelled_schemas_of_allowed_systems(ontology):
    schemas = corpus_schemas()
    systems = {s.system for s in schemas}
    assert len(systems) >= 25 and len(schemas) >= 60
    assert not systems & FORBIDDEN  # evaluation keeps these systems aside
    assert any(s.entity is None for s in schemas)  # objects no entity describes
    for labelled in schemas:
        names = {f.name for f in labelled.schema.fields}
        assert len(names) == len(labelled.schema.fields)
        for source, target in labelled.truth.items():
            assert source in names, source
            if target != IGNORE:
                entity, field = target.split(".")
                assert entity == labelled.entity and ontology.entity(entity).has_field(field)
        for source, target in labelled.also.items():
            assert labelled.truth[source] == IGNORE
            assert ontology.entity(labelled.entity).has_field(target.split(".")[1])
        targets = [t for t in labelled.truth.values() if t != IGNORE]
        assert len(targets) == len(set(targets)), labelled.schema.object


def test_none_schemas_map_nothing(ontology):
    gen = Generator(ontology, seed=2)
    for _ in range(5):
        labelled = gen.none_schema()
        assert labelled.entity is None and labelled.truth == {}
        assert labelled.schema.fields


def test_entity_model_learns_which_option_is_right():
    rng = np.random.default_rng(3)
    rows = []
    held = ENTITY_FEATURES.index("held")
    for _ in range(300):
        phi = rng.random((8, len(ENTITY_FEATURES)))
        phi[:, held] = 0.0
        right = int(rng.integers(0, 9))
        psi = np.array([float(right == 8 and rng.random() < 0.8)])  # "none": mostly unnamed
        if right < 8:
            phi[right] += 2.0  # the right entity has more evidence
            phi[right, held] = 0.0
            phi[(right + 1) % 8, held] = 1.0  # ... and another is held by the record
            phi[(right + 1) % 8] += 1.0
        rows.append((phi, psi, right, 1.0))
    model = fit_entity(rows)
    hits = 0
    for phi, psi, right, _ in rows:
        z = np.append(phi @ np.asarray(model.weights), model.none_logit(psi))
        hits += int(np.argmax(z) == right)
    assert hits / len(rows) > 0.85
    assert all(w >= 0 for k, w in enumerate(model.weights) if k != held)
    assert model.weights[held] < 0  # holding a list of X is evidence against X
    assert model.none_weights[0] > 0
