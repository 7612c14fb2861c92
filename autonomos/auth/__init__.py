"""Authentication: password hashing (Argon2id) and access tokens (JWT)."""
