"""Helpers shared by test modules (imported; test modules never import each other)."""
