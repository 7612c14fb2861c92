"""PII redaction: e-mails, phones, cards, US SSNs, IBANs, IP addresses and person names
replaced by typed placeholders (``[EMAIL]``, ``[PERSON]``, ...) with their spans.

Used before a document is indexed in the knowledge base and before text leaves for an
LLM; ``autonomos pii redact`` exposes it on the command line.
"""

from autonomos.nlp.pii.redact import ALL_LABELS, Redactor
from autonomos.nlp.pii.types import PIILabel, Redaction, Span

__all__ = ["ALL_LABELS", "PIILabel", "Redaction", "Redactor", "Span"]
