"""Ray actors per tenant: thin shells around the core (sync engine, drift) that add
naming, supervision, restarts and passivation. See DESIGN.md, "Tenancy and actors".

Import the submodules (``autonomos.actors.launcher``, ``.supervisor``, ``.naming``...),
not this package's namespace: this ``__init__`` imports nothing, because every actor
process imports it, and one that re-exported every actor class made each of them pay for
all of them (a supervisor process loaded the after-sync pipeline, the DCL registry and
the ontology just to start).
"""
