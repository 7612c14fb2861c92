"""Schema matching: a source object's schema -> ontology entity + calibrated field mapping.

    from autonomos.matching import Matcher, SourceSchema, SourceField

    matcher = Matcher(embedder=runtime.embedder(), memory=tenant_memory)   # embedder optional
    suggestion = matcher.suggest(SourceSchema.from_dict(doc))
    suggestion.entity, suggestion.mappings[0].target, suggestion.mappings[0].confidence

Importing this package is light (numpy, scipy, rank-bm25, rapidfuzz); the embedding model is
only touched through the injected embedder.
"""

from autonomos.matching.matcher import Matcher
from autonomos.matching.memory import MappingMemory, MemoryItem
from autonomos.matching.schema import (
    FieldSuggestion,
    SchemaInputError,
    SourceField,
    SourceSchema,
    Suggestion,
)

__all__ = [
    "FieldSuggestion",
    "MappingMemory",
    "Matcher",
    "MemoryItem",
    "SchemaInputError",
    "SourceField",
    "SourceSchema",
    "Suggestion",
]
